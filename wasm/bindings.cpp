// Embind layer: a thin JS face over core/Session. Options arrive as plain objects (unknown keys
// rejected by core/settings), C++ errors leave as JS Error with the core's message, and every
// array handed to JS is a fresh JS-owned copy (never a view into the wasm heap).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstring>

#include "../core/experiment.hpp"
#include "../core/session.hpp"
#include "../core/simulate.hpp"

using emscripten::val;
using namespace zimpute;

namespace {

// Runs f; a C++ exception becomes a JS Error. The message is copied out of the catch block
// first, so no C++ exception is alive while the JS exception unwinds the wasm frames.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
    static char message[4096];
    try {
        return f();
    } catch (const std::bad_alloc&) {
        std::strncpy(message,
                     "out of memory: this matrix is too large for the browser (4 GB at most); use the command-line "
                     "zimpute, or keep fewer genes or cells",
                     sizeof message - 1);
    } catch (const std::exception& e) {
        std::strncpy(message, e.what(), sizeof message - 1);
    } catch (...) {
        std::strncpy(message, "unknown error in zimpute", sizeof message - 1);
    }
    val::global("Error").new_(val(static_cast<const char*>(message))).throw_();
}

std::string to_text(const val& v) { return val::global("String")(v).as<std::string>(); }

// Orientation from JS: true or "cells" = cells in rows; "genes" = genes in rows, no detection;
// false, undefined or "auto" = genes in rows unless the labels clearly say otherwise.
void set_orientation(ReadOptions& r, const val& v) {
    const std::string s = v.isUndefined() || v.isNull() ? "auto" : to_text(v);
    r.cells_in_rows = s == "true" || s == "cells";
    r.detect_orientation = s != "genes";
}

void apply_options(Settings& s, const val& options) {
    if (options.isUndefined() || options.isNull()) return;
    const val keys = val::global("Object").call<val>("keys", options);
    const auto n = keys["length"].as<unsigned>();
    for (unsigned i = 0; i < n; ++i) {
        const std::string key = keys[i].as<std::string>();
        if (key == "preset") continue;  // applied first, below
        set_option(s, key, to_text(options[key]));
    }
}

Settings settings_from(const val& options) {
    const bool has_preset = !options.isUndefined() && !options.isNull() && options.hasOwnProperty("preset");
    Settings s = preset(has_preset ? to_text(options["preset"]) : "default");
    apply_options(s, options);
    return s;
}

val bytes_to_js(std::string_view bytes) {
    // new Uint8Array(view) copies, so JS owns the result and can transfer its buffer.
    return val::global("Uint8Array")
        .new_(emscripten::typed_memory_view(bytes.size(), reinterpret_cast<const unsigned char*>(bytes.data())));
}

// Bytes from JS (a Uint8Array, Node Buffer or string) copied once into the wasm heap: Embind's
// std::string argument makes two copies, and inputs are as large as the matrix.
std::string js_to_bytes(const val& bytes) {
    if (bytes.typeOf().as<std::string>() == "string") return bytes.as<std::string>();
    if (!val::global("ArrayBuffer").call<bool>("isView", bytes)) return js_to_bytes(val::global("Uint8Array").new_(bytes));
    const auto n = bytes["byteLength"].as<std::size_t>();
    std::string s(n, '\0');
    if (n) val(emscripten::typed_memory_view(n, reinterpret_cast<unsigned char*>(s.data()))).call<void>("set", bytes);
    return s;
}

val warnings_to_js(const std::vector<std::string>& w) {
    val out = val::array();
    for (const auto& s : w) out.call<void>("push", s);
    return out;
}

val report_to_js(const EpochReport& r) {
    val o = val::object();
    o.set("epoch", r.epoch);
    o.set("trainLoss", r.train_loss);
    o.set("valLoss", std::isfinite(r.val_loss) ? val(r.val_loss) : val::null());
    o.set("learningRate", r.learning_rate);
    o.set("seconds", r.seconds);
    o.set("improved", r.improved);
    o.set("event", r.event);
    return o;
}

class JsSession {
public:
    explicit JsSession(val options) : session_(guarded([&] { return settings_from(options); })) {}

    void setOptions(val options) {
        guarded([&] {
            Settings s = settings_from(options);
            session_.settings() = s;
        });
    }

    val settings() {
        val o = val::object();
        for (const auto& d : option_docs()) o.set(d.key, get_option(session_.settings(), d.key));
        return o;
    }

    val loadData(val bytes, std::string name, val orientation) {
        return guarded([&] {
            ReadOptions r;
            r.source = name;
            set_orientation(r, orientation);
            const CountMatrix& m = session_.load_data(js_to_bytes(bytes), r);
            reported_ = 0;
            return summary(m);
        });
    }

    static val summary(const CountMatrix& m) {
        val o = val::object();
        o.set("genes", static_cast<double>(m.n_genes()));
        o.set("cells", static_cast<double>(m.n_cells()));
        o.set("zeroFraction", static_cast<double>((m.counts.array() == 0).count()) / static_cast<double>(m.counts.size()));
        o.set("warnings", warnings_to_js(m.warnings));
        return o;
    }

    val loadMtx(val mtx, val features, val barcodes, std::string mtx_name, std::string features_name,
                std::string barcodes_name) {
        return guarded([&] {
            const CountMatrix& m = session_.load_mtx(js_to_bytes(mtx), js_to_bytes(features), js_to_bytes(barcodes),
                                                     mtx_name, features_name, barcodes_name);
            reported_ = 0;
            return summary(m);
        });
    }

    void loadTruth(val bytes, std::string name) {
        guarded([&] {
            ReadOptions r;
            r.source = name;
            session_.load_truth(js_to_bytes(bytes), r);
        });
    }

    void loadModel(val bytes, std::string name) { guarded([&] { session_.load_model(js_to_bytes(bytes), name); }); }

    val startTraining() {
        return guarded([&] {
            Trainer& t = session_.start_training();
            reported_ = 0;
            val o = val::object();
            o.set("trainCells", static_cast<double>(t.n_train()));
            o.set("validationCells", static_cast<double>(t.n_validation()));
            o.set("epochs", t.epochs());
            return o;
        });
    }

    // Trains for about budget_ms and reports what happened since the last call.
    val step(double budget_ms) {
        return guarded([&] {
            Trainer* t = session_.trainer();
            if (!t) throw std::logic_error("call startTraining before step");
            const bool done = t->step(budget_ms / 1000.0);
            val reports = val::array();
            const auto& h = t->history();
            for (; reported_ < h.size(); ++reported_) reports.call<void>("push", report_to_js(h[reported_]));
            val o = val::object();
            o.set("done", done);
            o.set("epoch", t->epoch());
            o.set("epochs", t->epochs());
            o.set("fraction", t->epoch_fraction());
            o.set("stopReason", to_string(t->stop_reason()));
            o.set("recoveries", t->recoveries());
            o.set("trainSeconds", t->train_seconds());
            o.set("reports", reports);
            return o;
        });
    }

    void cancel() {
        if (Trainer* t = session_.trainer()) t->cancel();
    }

    void impute() { guarded([&] { session_.impute(); }); }

    bool hasTruth() const { return session_.has_truth(); }

    // Metrics (with a truth), settings and training summary, as a JSON string.
    std::string report() { return guarded([&] { return session_.report_json(); }); }

    // "result", "pi", "mu", "theta", "latent" (CSV in the input's layout) or "model" (binary).
    // The text is copied out to JS in ~1 MB chunks as it is formatted, so the wasm heap (which
    // never shrinks) does not grow by the output's size. writeOutput hands each chunk (a new
    // Uint8Array) to `onChunk` as it is made, so a file stream holds one chunk at a time; output
    // joins them into one Uint8Array.
    void writeOutput(std::string which, val on_chunk) {
        guarded([&] { session_.write_output(which, [&](std::string_view chunk) { on_chunk(bytes_to_js(chunk)); }); });
    }

    val output(std::string which) {
        return guarded([&] {
            val chunks = val::array();
            session_.write_output(which, [&](std::string_view chunk) { chunks.call<void>("push", bytes_to_js(chunk)); });
            std::size_t total = 0;
            const auto n = chunks["length"].as<unsigned>();
            for (unsigned k = 0; k < n; ++k) total += chunks[k]["length"].as<std::size_t>();
            val out = val::global("Uint8Array").new_(total);
            std::size_t offset = 0;
            for (unsigned k = 0; k < n; ++k) {
                val c = chunks[k];
                out.call<void>("set", c, offset);
                offset += c["length"].as<std::size_t>();
            }
            return out;
        });
    }

private:
    Session session_;
    std::size_t reported_ = 0;
};

val floats_to_js(const std::vector<float>& v) {
    return val::global("Float32Array").new_(emscripten::typed_memory_view(v.size(), v.data()));
}

// The course experiment: {data, truth} bytes in, stepped like a session, rows and plots out.
class JsExperiment {
public:
    JsExperiment(std::string data, std::string data_name, std::string truth, std::string truth_name, val options) {
        guarded([&] {
            Settings base = settings_from(options["settings"]);
            ReadOptions r;
            r.source = data_name;
            set_orientation(r, options["orientation"]);
            Session s;  // parses (and gunzips natively) exactly as a single run does
            const CountMatrix& d = s.load_data(data, r);
            r.source = truth_name;
            s.load_truth(truth, r);
            experiment_ = std::make_unique<Experiment>(d, s.truth(), course_variants(base),
                                                       options["fraction"].as<double>(), base.seed);
        });
    }

    val step(double budget_ms) {
        return guarded([&] {
            const bool done = experiment_->step(budget_ms / 1000.0);
            val o = val::object();
            o.set("done", done);
            o.set("current", static_cast<double>(experiment_->current()));
            o.set("total", static_cast<double>(experiment_->variants().size()));
            if (!done) o.set("name", experiment_->variants()[experiment_->current()].name);
            if (const Trainer* t = experiment_->trainer()) {
                o.set("epoch", t->epoch());
                o.set("epochs", t->epochs());
            }
            val rows = val::array();
            for (; reported_ < experiment_->rows().size(); ++reported_) {
                const ExperimentRow& r = experiment_->rows()[reported_];
                val row = val::object();
                row.set("name", r.name);
                row.set("epochs", r.epochs);
                val history = val::array();
                for (const auto& e : r.history) history.call<void>("push", report_to_js(e));
                row.set("history", history);
                rows.call<void>("push", row);
            }
            o.set("rows", rows);
            return o;
        });
    }

    void cancel() { experiment_->cancel(); }
    std::string table(std::string format) { return format == "csv" ? experiment_->table_csv() : experiment_->table_markdown(); }
    int best() const { return experiment_->best(); }

    // Metrics of every row as a JSON array (the same fields as a single run's metrics).
    std::string metrics() const {
        std::string out = "[";
        for (std::size_t k = 0; k < experiment_->rows().size(); ++k)
            out += (k ? "," : "") + metrics_json(experiment_->rows()[k].metrics);
        return out + "]";
    }

    val plots() {
        return guarded([&] {
            const PlotData p = experiment_->plot_data(4000);
            val o = val::object();
            o.set("dropoutTruth", floats_to_js(p.dropout_truth));
            o.set("dropoutImputed", floats_to_js(p.dropout_imputed));
            o.set("piDropout", floats_to_js(p.pi_dropout));
            o.set("piTrueZero", floats_to_js(p.pi_true_zero));
            o.set("heatGenes", p.heat_genes);
            o.set("heatCells", p.heat_cells);
            o.set("heatObserved", floats_to_js(p.heat_observed));
            o.set("heatImputed", floats_to_js(p.heat_imputed));
            o.set("heatTruth", floats_to_js(p.heat_truth));
            return o;
        });
    }

private:
    std::unique_ptr<Experiment> experiment_;
    std::size_t reported_ = 0;
};

val option_docs_js() {
    val out = val::array();
    for (const auto& d : option_docs()) {
        val o = val::object();
        o.set("key", d.key);
        o.set("default", d.default_value);
        o.set("help", d.help);
        out.call<void>("push", o);
    }
    return out;
}

// Simulated data with truth in the course's format: {data, truth} as CSV bytes.
val simulate_js(val options) {
    return guarded([&] {
        SimulateOptions o;
        auto num = [&](const char* k, double def) { return options.hasOwnProperty(k) ? options[k].as<double>() : def; };
        o.genes = static_cast<int>(num("genes", o.genes));
        o.cells = static_cast<int>(num("cells", o.cells));
        o.groups = static_cast<int>(num("groups", o.groups));
        o.zero_fraction = num("zeroFraction", o.zero_fraction);
        o.seed = static_cast<std::uint64_t>(num("seed", static_cast<double>(o.seed)));
        const Simulation s = simulate(o);
        val out = val::object();
        out.set("data", bytes_to_js(write_counts(s.observed, s.observed.counts)));
        out.set("truth", bytes_to_js(write_counts(s.truth, s.truth.counts)));
        return out;
    });
}

}  // namespace

EMSCRIPTEN_BINDINGS(zimpute) {
    emscripten::class_<JsSession>("Session")
        .constructor<val>()
        .function("setOptions", &JsSession::setOptions)
        .function("settings", &JsSession::settings)
        .function("loadData", &JsSession::loadData)
        .function("loadMtx", &JsSession::loadMtx)
        .function("loadTruth", &JsSession::loadTruth)
        .function("loadModel", &JsSession::loadModel)
        .function("startTraining", &JsSession::startTraining)
        .function("step", &JsSession::step)
        .function("cancel", &JsSession::cancel)
        .function("impute", &JsSession::impute)
        .function("hasTruth", &JsSession::hasTruth)
        .function("report", &JsSession::report)
        .function("output", &JsSession::output)
        .function("writeOutput", &JsSession::writeOutput);
    emscripten::class_<JsExperiment>("Experiment")
        .constructor<std::string, std::string, std::string, std::string, val>()
        .function("step", &JsExperiment::step)
        .function("cancel", &JsExperiment::cancel)
        .function("table", &JsExperiment::table)
        .function("best", &JsExperiment::best)
        .function("metrics", &JsExperiment::metrics)
        .function("plots", &JsExperiment::plots);
    emscripten::function("optionDocs", &option_docs_js);
    // Threads a session can use with option threads = 0 (this machine's cores, within the pool).
    emscripten::function("maxThreads", +[] { return resolve_threads(0); });
    emscripten::function("simulate", &simulate_js);
}
