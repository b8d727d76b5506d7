// Session: one imputation job from JS (the page's worker and the Node entry), a thin face over
// core/Session. The lines and the summary the Node entry prints come from the command contract
// (cli/command.hpp), the same functions the native CLI calls.
#include <emscripten/bind.h>

#include "convert.hpp"

namespace zimpute::js {
namespace {

val matrix_summary(const CountMatrix& m) {
    val o = val::object();
    o.set("genes", static_cast<double>(m.n_genes()));
    o.set("cells", static_cast<double>(m.n_cells()));
    o.set("zeroFraction", static_cast<double>((m.counts.array() == 0).count()) / static_cast<double>(m.counts.size()));
    o.set("warnings", strings_to_js(m.warnings));
    return o;
}

class JsSession {
public:
    explicit JsSession(val options) : session_(guarded([&] { return settings_from_js(options); })) {}

    void setOptions(val options) {
        guarded([&] { session_.settings() = settings_from_js(options); });
    }

    val settings() {
        return guarded([&] {
            val o = val::object();
            for (const auto& d : option_docs()) o.set(d.key, get_option(session_.settings(), d.key));
            return o;
        });
    }

    val loadData(val bytes, std::string name, val layout) {
        return guarded([&] {
            const CountMatrix& m = session_.load_data(js_to_bytes(bytes), read_options_from_js(layout, name));
            reported_ = 0;
            return matrix_summary(m);
        });
    }

    val loadMtx(val mtx, val features, val barcodes, std::string mtx_name, std::string features_name,
                std::string barcodes_name) {
        return guarded([&] {
            const CountMatrix& m = session_.load_mtx(js_to_bytes(mtx), js_to_bytes(features), js_to_bytes(barcodes),
                                                     mtx_name, features_name, barcodes_name,
                                                     read_options_from_js(val::undefined(), mtx_name));
            reported_ = 0;
            return matrix_summary(m);
        });
    }

    // The truth file's reading warnings, as an array of strings.
    val loadTruth(val bytes, std::string name) { return loadTruthOriented(bytes, name, val::undefined()); }
    val loadTruthOriented(val bytes, std::string name, val layout) {
        return guarded([&] { return strings_to_js(session_.load_truth(js_to_bytes(bytes), read_options_from_js(layout, name))); });
    }

    void loadModel(val bytes, std::string name) { guarded([&] { session_.load_model(js_to_bytes(bytes), name); }); }

    // Starts the calibration (with the calibrate setting) or the training. {calibrating, epochs,
    // lines: the command contract's lines to show, and without calibration trainCells and
    // validationCells}.
    val startTraining() {
        return guarded([&] {
            reported_ = scored_ = 0;
            calibrating_ = false;
            if (!session_.settings().calibrate) return training_started({});
            Calibration& c = session_.start_calibration();
            calibrating_ = true;
            candidate_seen_ = -1;
            val o = val::object();
            o.set("calibrating", true);
            o.set("candidates", c.candidates());
            o.set("heldOut", static_cast<double>(c.result().held_out));
            o.set("epochs", session_.settings().train.epochs);
            o.set("lines", strings_to_js(calibration_start_lines(session_)));
            return o;
        });
    }

    // Trains for about budget_ms and reports what happened since the last call: {done, phase
    // ("calibrating" or "training"), epoch, epochs, fraction, stopReason, recoveries,
    // trainSeconds, reports (epochs ended), lines (the contract's lines: a candidate scored, the
    // choice, the training line), and while calibrating candidate and candidates}.
    val step(double budget_ms) {
        return guarded([&] {
            if (calibrating_) return calibration_step(budget_ms);
            Trainer* t = session_.trainer();
            if (!t) throw std::logic_error("call startTraining before step");
            const bool done = t->step(budget_ms / 1000.0);
            val o = trainer_status(*t, done);
            o.set("member", session_.member());  // whose epochs these are
            o.set("members", session_.members());
            val lines = val::array();  // no heap allocation on the common path
            if (done && session_.next_member()) {  // an ensemble's next model starts
                reported_ = 0;
                lines.call<void>("push", member_line(session_));
                o.set("done", false);
            }
            o.set("phase", val("training"));
            o.set("lines", lines);
            return o;
        });
    }

    void cancel() {
        guarded([&] {
            if (calibrating_) session_.calibration()->cancel();
            else if (Trainer* t = session_.trainer()) t->cancel();
        });
    }

    void impute() { guarded([&] { session_.impute(); }); }
    bool hasTruth() { return guarded([&] { return session_.has_truth(); }); }

    // The pictures' data (wasm/pictures_binding.cpp); needs impute() first.
    val pictures() { return guarded([&] { return pictures_to_js(session_); }); }

    // Metrics (with a truth), settings and training summary, as a JSON string.
    std::string report() { return guarded([&] { return session_.report_json(); }); }

    // The command contract's lines and RESULT_JSON object (see cli/command.hpp).
    std::string trainingLine() { return guarded([&] { return training_line(session_); }); }
    std::string recoveryLine() { return guarded([&] { return recovery_line(session_); }); }
    // `extra`: a plain object of the driver's own numbers (the Node entry's wasm_heap_mb).
    std::string summary(double parse_seconds, val extra) {
        return guarded([&] {
            std::vector<std::pair<std::string, double>> numbers;
            if (!is_missing(extra)) {
                const val keys = val::global("Object").call<val>("keys", extra);
                for (unsigned i = 0; i < keys["length"].as<unsigned>(); ++i) {
                    const std::string k = keys[i].as<std::string>();
                    numbers.emplace_back(k, extra[k].as<double>());
                }
            }
            return summary_json(session_, parse_seconds, numbers);
        });
    }

    // "result", "pi", "mu", "theta", "latent" (CSV in the input's layout), "model" (binary) or
    // "metrics" (the report JSON and a newline). The text is copied out to JS in ~1 MB chunks as
    // it is formatted, so the wasm heap (which never shrinks) does not grow by the output's size.
    // writeOutput hands each chunk (a new Uint8Array) to `onChunk` as it is made, so a file
    // stream holds one chunk at a time; output joins them into one Uint8Array.
    void writeOutput(std::string which, val on_chunk) {
        guarded([&] { write_command_output(session_, which, [&](std::string_view c) { on_chunk(bytes_to_js(c)); }); });
    }

    val output(std::string which) {
        return guarded([&] {
            std::vector<val> chunks;
            std::size_t total = 0;
            write_command_output(session_, which, [&](std::string_view c) {
                chunks.push_back(bytes_to_js(c));
                total += c.size();
            });
            val out = val::global("Uint8Array").new_(total);
            std::size_t offset = 0;
            for (const val& c : chunks) {
                out.call<void>("set", c, offset);
                offset += c["length"].as<std::size_t>();
            }
            return out;
        });
    }

private:
    // Epoch reports since the last call and the trainer's state.
    val trainer_status(const Trainer& t, bool done) {
        val reports = val::array();
        const auto& h = t.history();
        for (; reported_ < h.size(); ++reported_) reports.call<void>("push", report_to_js(h[reported_]));
        val o = val::object();
        o.set("done", done);
        o.set("epoch", t.epoch());
        o.set("epochs", t.epochs());
        o.set("fraction", t.epoch_fraction());
        o.set("stopReason", to_string(t.stop_reason()));
        o.set("recoveries", t.recoveries());
        o.set("trainSeconds", t.train_seconds());
        o.set("reports", reports);
        return o;
    }

    val training_started(std::vector<std::string> lines) {
        Trainer& t = session_.start_training();
        reported_ = 0;
        lines.push_back(training_line(session_));
        if (session_.members() > 1) lines.push_back(member_line(session_));
        val o = val::object();
        o.set("calibrating", false);
        o.set("trainCells", static_cast<double>(t.n_train()));
        o.set("validationCells", static_cast<double>(t.n_validation()));
        o.set("epochs", t.epochs());
        o.set("lines", strings_to_js(lines));
        return o;
    }

    val calibration_step(double budget_ms) {
        Calibration& c = *session_.calibration();
        const bool done = c.step(budget_ms / 1000.0);
        // Each candidate's trainer has its own history (a new trainer may reuse the old one's
        // address, so candidates are told apart by index); none before the first step (a cancel
        // that came first).
        const int candidate = c.trainer() ? c.candidate() : -1;
        if (candidate != candidate_seen_) {
            candidate_seen_ = candidate;
            reported_ = 0;
        }
        val o = c.trainer() ? trainer_status(*c.trainer(), false) : val::object();
        if (!c.trainer()) {
            o.set("done", false);
            o.set("epoch", 0);
            o.set("epochs", session_.settings().train.epochs);
            o.set("fraction", 0);
            o.set("reports", val::array());
        }
        o.set("phase", std::string("calibrating"));
        o.set("candidate", c.candidate());
        o.set("candidates", c.candidates());
        std::vector<std::string> lines;
        if (c.result().trials.size() > scored_) {
            scored_ = c.result().trials.size();
            lines = calibration_scored_lines(session_);
        }
        if (done && c.cancelled()) {
            o.set("done", true);
            o.set("stopReason", std::string("cancelled"));
            o.set("lines", strings_to_js(lines));
        } else if (done) {  // the chosen settings' training starts: its lines follow the choice
            calibrating_ = false;
            const val training = training_started(lines);
            o.set("training", training);
            o.set("lines", training["lines"]);
        } else {
            o.set("lines", strings_to_js(lines));
        }
        return o;
    }

    Session session_;
    std::size_t reported_ = 0;
    std::size_t scored_ = 0;    // calibration trials reported
    bool calibrating_ = false;  // startTraining began a calibration that has not ended
    int candidate_seen_ = -1;   // the candidate whose history reported_ counts in (-1: none yet)
};

}  // namespace
}  // namespace zimpute::js

EMSCRIPTEN_BINDINGS(zimpute_session) {
    using zimpute::js::JsSession;
    emscripten::class_<JsSession>("Session")
        .constructor<emscripten::val>()
        .function("setOptions", &JsSession::setOptions)
        .function("settings", &JsSession::settings)
        .function("loadData", &JsSession::loadData)
        .function("loadMtx", &JsSession::loadMtx)
        .function("loadTruth", &JsSession::loadTruth)
        .function("loadTruth", &JsSession::loadTruthOriented)
        .function("loadModel", &JsSession::loadModel)
        .function("startTraining", &JsSession::startTraining)
        .function("step", &JsSession::step)
        .function("cancel", &JsSession::cancel)
        .function("impute", &JsSession::impute)
        .function("hasTruth", &JsSession::hasTruth)
        .function("report", &JsSession::report)
        .function("pictures", &JsSession::pictures)
        .function("trainingLine", &JsSession::trainingLine)
        .function("recoveryLine", &JsSession::recoveryLine)
        .function("summary", &JsSession::summary)
        .function("output", &JsSession::output)
        .function("writeOutput", &JsSession::writeOutput);
}
