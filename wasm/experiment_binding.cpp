// Experiment: the course experiment from JS (the page's section 5): {data, truth} bytes in,
// stepped like a session, rows, the table (cli/experiment_table) and the plots'
// samples (experiment_plots) out.
#include <emscripten/bind.h>

#include <memory>

#include "../cli/experiment_table.hpp"
#include "convert.hpp"
#include "experiment_plots.hpp"

namespace zimpute::js {
namespace {

val row_to_js(const ExperimentRow& r) {
    val row = val::object();
    row.set("name", r.name);
    row.set("epochs", r.epochs);
    val history = val::array();
    for (const auto& e : r.history) history.call<void>("push", report_to_js(e));
    row.set("history", history);
    return row;
}

val plots_to_js(const PlotData& p) {
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
}

class JsExperiment {
public:
    // data and truth: bytes (Uint8Array, ArrayBuffer or string), each copied once into the heap.
    // options: {settings, fraction, layout} (layout as Session.loadData's; an orientation alone also).
    JsExperiment(val data, std::string data_name, val truth, std::string truth_name, val options) {
        guarded([&] {
            const Settings base = settings_from_js(options["settings"]);
            const val orientation = is_missing(options["layout"]) ? options["orientation"] : options["layout"];
            Session s;  // parses exactly as a single run does
            const CountMatrix& d = s.load_data(js_to_bytes(data), read_options_from_js(orientation, data_name));
            s.load_truth(js_to_bytes(truth), read_options_from_js(orientation, truth_name));
            const double fraction = is_missing(options["fraction"]) ? 0.7 : options["fraction"].as<double>();
            experiment_ = std::make_unique<Experiment>(d, s.truth(), course_variants(base), fraction, base.seed);
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
            for (; reported_ < experiment_->rows().size(); ++reported_)
                rows.call<void>("push", row_to_js(experiment_->rows()[reported_]));
            o.set("rows", rows);
            return o;
        });
    }

    void cancel() { guarded([&] { experiment_->cancel(); }); }
    // "md" or "csv".
    std::string table(std::string format) { return guarded([&] { return experiment_table(*experiment_, format); }); }
    int best() { return guarded([&] { return experiment_->best(); }); }

    // Metrics of every row as a JSON array (the same fields as a single run's metrics).
    std::string metrics() {
        return guarded([&] {
            std::string out = "[";
            for (std::size_t k = 0; k < experiment_->rows().size(); ++k)
                out += (k ? "," : "") + metrics_json(experiment_->rows()[k].metrics);
            return out + "]";
        });
    }

    // Samples for the best row's plots; empty arrays without a best row.
    val plots() {
        return guarded([&] {
            Session* best = experiment_->best_session();
            return plots_to_js(best ? plot_data(*best, 4000) : PlotData{});
        });
    }

private:
    std::unique_ptr<Experiment> experiment_;
    std::size_t reported_ = 0;
};

}  // namespace
}  // namespace zimpute::js

EMSCRIPTEN_BINDINGS(zimpute_experiment) {
    using zimpute::js::JsExperiment;
    using emscripten::val;
    emscripten::class_<JsExperiment>("Experiment")
        .constructor<val, std::string, val, std::string, val>()
        .function("step", &JsExperiment::step)
        .function("cancel", &JsExperiment::cancel)
        .function("table", &JsExperiment::table)
        .function("best", &JsExperiment::best)
        .function("metrics", &JsExperiment::metrics)
        .function("plots", &JsExperiment::plots);
}
