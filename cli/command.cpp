#include "command.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace zimpute {

namespace {

struct CommandSpec {
    const char* name;
    std::vector<std::string> required, optional;  ///< the command's own keys (files, split sizes)
    /// Which settings the command takes: every option and --preset ("*"), only these, or none.
    std::vector<std::string> settings;
};

const std::vector<std::string> kOutputs = {"truth", "metrics", "pi", "mu", "theta", "latent"};
// How CSV/TSV inputs are laid out (input_layout): every command that reads a matrix takes them.
const std::vector<std::string> kLayout = {"header", "row-names"};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::vector<CommandSpec>& specs() {
    static const std::vector<CommandSpec> s = {
        {"impute", {"data", "out"}, plus(plus(kOutputs, kLayout), {"save"}), {"*"}},
        {"train", {"data", "save"}, plus(plus(kOutputs, kLayout), {"out"}), {"*"}},
        // A model brings its own settings; only the threads are this run's choice.
        {"apply", {"model", "data", "out"}, plus(plus(kOutputs, kLayout), {"save"}), {"threads"}},
        {"evaluate", {"data", "truth", "imputed"}, plus(kLayout, {"metrics"}), {}},
        {"split", {"data", "out-prefix"}, plus(kLayout, {"truth", "fraction", "seed"}), {}},
        {"experiment", {"data", "truth"}, plus(kLayout, {"fraction", "out", "csv"}), {"*"}},
        {"simulate", {"out"}, {"truth-out", "genes", "cells", "groups", "zero-fraction", "seed"}, {}},
    };
    return s;
}

const CommandSpec& spec(const std::string& name) {
    for (const auto& s : specs())
        if (name == s.name) return s;
    throw UsageError("unknown command '" + name + "' (try zimpute --help)");
}

bool contains(const std::vector<std::string>& v, const std::string& k) {
    for (const auto& x : v)
        if (x == k) return true;
    return false;
}

bool own_key(const CommandSpec& s, const std::string& k) { return contains(s.required, k) || contains(s.optional, k); }

// A key some command owns that is no setting (a file, split's --fraction): on another command a
// mistake, not an unknown option.
bool plumbing(const std::string& k) {
    for (const auto& d : option_docs())
        if (d.key == k) return false;
    for (const auto& s : specs())
        if (own_key(s, k)) return true;
    return false;
}

void check(const Command& c) {
    const CommandSpec& s = spec(c.name);
    for (const auto& k : s.required)
        if (!c.has(k)) throw UsageError("'" + c.name + "' needs --" + k);
    const bool all_settings = contains(s.settings, "*");
    for (const auto& [k, v] : c.options) {
        if (own_key(s, k) || (!plumbing(k) && (all_settings || contains(s.settings, k)))) continue;
        throw UsageError("'" + c.name + "' does not take --" + k +
                         (c.name == "apply" ? " (a model brings its own settings; only --threads applies)" : ""));
    }
    const Settings settings = settings_from_options(settings_options(c));  // unknown options and bad values, in set_option's words
    if (c.has("save") && settings.ensemble > 1)
        throw UsageError("--save needs --ensemble 1: a model file holds one network, and an ensemble averages several");
    try {
        read_options(input_layout(c), "");
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    // The command's own numbers, read where they are used, checked here before any file is read.
    if (c.name == "simulate") simulate_options(c.options);
    if (c.name == "split" || c.name == "experiment") split_fraction(c);
    if (c.name == "split") split_seed(c);
}

// A whole number or a decimal from an option, or a UsageError naming it.
double number(const Options& o, const std::string& key, double fallback, bool whole) {
    const auto it = o.find(key);
    if (it == o.end()) return fallback;
    double v = 0;
    // Whole numbers are counts, sizes and seeds: below 2^31 (they become ints), and never negative.
    if (!parse_decimal(it->second, v) || (whole && (v != std::floor(v) || v < 0 || v > 2147483647.0)))
        throw UsageError("--" + key + " must be " + (whole ? "a whole number" : "a number") + ", not '" + it->second + "'");
    return v;
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

}  // namespace

std::string Command::get(const std::string& key, const std::string& fallback) const {
    const auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
}

Command parse_command(const std::vector<std::string>& args) {
    static const std::set<std::string> bare = {"cells-in-rows", "genes-in-rows", "quiet", "help"};
    Command c;
    std::size_t i = 0;
    if (i < args.size() && args[i].rfind("-", 0) != 0) c.name = args[i++];
    for (; i < args.size(); ++i) {
        std::string s = args[i] == "-h" ? "--help" : args[i];
        if (s.rfind("--", 0) != 0 || s.size() == 2 || s[2] == '=') throw UsageError("unexpected argument '" + s + "'");
        s = s.substr(2);
        const auto eq = s.find('=');
        if (eq != std::string::npos) {
            c.options[s.substr(0, eq)] = s.substr(eq + 1);
        } else if (bare.count(s)) {
            c.flags.insert(s);
        } else {
            if (i + 1 >= args.size()) throw UsageError("--" + s + " needs a value");
            c.options[s] = args[++i];
        }
    }
    if (!c.help()) check(c);
    return c;
}

Settings settings_from_options(const Options& options) {
    const auto p = options.find("preset");
    Settings s = preset(p == options.end() ? "default" : p->second);
    for (const auto& [k, v] : options)
        if (k != "preset") set_option(s, k, v);
    return s;
}

Options settings_options(const Command& c) {
    Options o;
    const CommandSpec& s = spec(c.name);
    for (const auto& [k, v] : c.options)
        if (!own_key(s, k)) o[k] = v;
    return o;
}

Settings command_settings(const Command& c) { return settings_from_options(settings_options(c)); }

InputLayout input_layout(const Command& c) {
    InputLayout l;
    l.orientation = c.flag("cells-in-rows") ? "cells" : c.flag("genes-in-rows") ? "genes" : "auto";
    l.header = c.get("header", "auto");
    l.row_names = c.get("row-names", "auto");
    return l;
}

ReadOptions read_options(const InputLayout& layout, const std::string& source) {
    const std::string& o = layout.orientation;
    if (o != "auto" && o != "genes" && o != "cells")
        throw std::invalid_argument("orientation must be auto, genes or cells, not '" + o + "'");
    ReadOptions r;
    r.cells_in_rows = o == "cells";
    r.detect_orientation = o != "genes";
    r.header = parse_presence(layout.header, "header");
    r.row_names = parse_presence(layout.row_names, "row-names");
    r.source = source;
    return r;
}

std::vector<std::pair<std::string, std::string>> command_outputs(const Command& c) {
    std::vector<std::pair<std::string, std::string>> files;
    if (c.has("out")) files.emplace_back(c.get("out"), "result");
    for (const char* m : {"pi", "mu", "theta", "latent"})
        if (c.has(m)) files.emplace_back(c.get(m), m);
    if (c.has("save")) files.emplace_back(c.get("save"), "model");
    if (c.has("metrics")) files.emplace_back(c.get("metrics"), "metrics");
    return files;
}

void write_command_output(Session& s, const std::string& what, const TextSink& sink) {
    if (what == "metrics") return sink(s.report_json() + "\n");
    s.write_output(what, sink);
}

std::vector<std::string> split_outputs(const Command& c) {
    const std::string p = c.get("out-prefix");
    std::vector<std::string> out = {p + "_test.csv", p + "_validation.csv"};
    if (c.has("truth")) {
        out.push_back(p + "_test_truth.csv");
        out.push_back(p + "_validation_truth.csv");
    }
    return out;
}

CommandFiles command_files(const Command& c) {
    CommandFiles f;
    for (const char* k : {"data", "truth", "model", "imputed"})
        if (c.has(k)) f.inputs.push_back({k, c.get(k)});
    if (c.name == "split") {
        for (const auto& p : split_outputs(c)) f.outputs.push_back({"out-prefix", p});
        return f;
    }
    for (const char* k : {"out", "pi", "mu", "theta", "latent", "save", "metrics", "csv", "truth-out"})
        if (c.has(k)) f.outputs.push_back({k, c.get(k)});
    return f;
}

double split_fraction(const Command& c) { return number(c.options, "fraction", 0.7, false); }

std::uint64_t split_seed(const Command& c) { return static_cast<std::uint64_t>(number(c.options, "seed", 42, true)); }

SimulateOptions simulate_options(const Options& options) {
    SimulateOptions o;
    o.genes = static_cast<int>(number(options, "genes", o.genes, true));
    o.cells = static_cast<int>(number(options, "cells", o.cells, true));
    o.groups = static_cast<int>(number(options, "groups", o.groups, true));
    o.zero_fraction = number(options, "zero-fraction", o.zero_fraction, false);
    o.seed = static_cast<std::uint64_t>(number(options, "seed", static_cast<double>(o.seed), true));
    return o;
}

SimulateRun run_simulate(const Command& c) {
    const SimulateOptions o = simulate_options(c.options);
    const auto t0 = std::chrono::steady_clock::now();
    const Simulation sim = simulate(o);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    SimulateRun run;
    run.files.emplace_back(c.get("out"), write_counts(sim.observed, sim.observed.counts));
    if (c.has("truth-out")) run.files.emplace_back(c.get("truth-out"), write_counts(sim.truth, sim.truth.counts));
    const auto& counts = sim.observed.counts;
    const double zeros = static_cast<double>((counts.array() == 0).count()) / static_cast<double>(counts.size());
    run.summary = "{\"genes\":" + std::to_string(o.genes) + ",\"cells\":" + std::to_string(o.cells) +
                  ",\"zero_fraction\":" + json_number(zeros) + ",\"seconds\":" + json_number(secs) + "}";
    return run;
}

std::string warning_line(const std::string& path, const std::string& warning) {
    return "zimpute: warning: " + path + ": " + warning;
}

std::string training_line(Session& s) {
    const Trainer* t = s.trainer();
    if (!t) throw std::logic_error("training_line before start_training");
    std::string line = "zimpute: training on " + std::to_string(t->n_train()) + " cells (" +
                       std::to_string(t->n_validation()) + " for validation), " +
                       std::to_string(s.data().n_genes()) + " genes";
    // When the gene selection left out genes with counts, a second line says which and why.
    const PreprocessParams& p = s.model()->prep;
    const auto kept = static_cast<Eigen::Index>(p.kept_genes.size());
    if (kept == p.genes_passing_counts && p.genes_below_min_counts == 0) return line;
    line += "\nzimpute: imputing ";
    line += kept < p.genes_passing_counts ? "the " + std::to_string(kept) + " most variable" : std::to_string(kept);
    line += " of " + std::to_string(s.data().n_genes()) + " genes";
    if (kept < p.genes_passing_counts) line += " (--top-genes; 0 = all)";
    if (p.genes_below_min_counts > 0)
        line += ", leaving out " + std::to_string(p.genes_below_min_counts) + " with fewer than " +
                std::to_string(p.options.min_gene_counts) + " counts (--min-gene-counts)";
    return line + "; the others are written unchanged";
}

std::string member_line(Session& s) {
    return "zimpute: ensemble member " + std::to_string(s.member() + 1) + "/" + std::to_string(s.members()) +
           " (seed " + std::to_string(s.model()->settings.seed) + ")";
}

std::string progress_line(const EpochReport& r, int epochs, bool quiet) {
    if (quiet && r.event.empty()) return "";
    char line[256];
    std::snprintf(line, sizeof line, "epoch %d/%d  train %.5f  val %.5f  lr %.3g  %.3f s", r.epoch, epochs,
                  r.train_loss, r.val_loss, r.learning_rate, r.seconds);
    return line + (r.event.empty() ? "" : "  [" + r.event + "]");
}

std::string recovery_line(Session& s) {
    const Trainer* t = s.trainer();
    if (!t || t->recoveries() == 0) return "";
    char lr[32];
    std::snprintf(lr, sizeof lr, "%g", t->learning_rate());
    return "zimpute: training diverged " + std::to_string(t->recoveries()) +
           " time(s) and recovered each time (earlier weights restored, learning rate halved; it ended at " + lr + ")";
}

namespace {

// Candidate k (0-based) of the calibration.
std::string candidate_line(const Calibration& c, int k) {
    return "zimpute: calibration candidate " + std::to_string(k + 1) + "/" + std::to_string(c.candidates()) +
           ": the " + calibration_candidates()[static_cast<std::size_t>(k)] + " training settings";
}

std::string score_text(double score) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", score);
    return buf;
}

}  // namespace

std::vector<std::string> calibration_start_lines(Session& s) {
    const Calibration* c = s.calibration();
    if (!c) throw std::logic_error("calibration_start_lines before start_calibration");
    std::string names;
    for (const auto& n : calibration_candidates()) names += (names.empty() ? "" : ", ") + n;
    return {"zimpute: calibrating on the data (--calibrate): " + std::to_string(c->result().held_out) +
                " non-zero counts held out; " + std::to_string(c->candidates()) + " candidates (" + names +
                ") trained on the rest and scored on recovering them with each rule, then the best trained on everything",
            candidate_line(*c, 0)};
}

std::vector<std::string> calibration_scored_lines(Session& s) {
    const Calibration* c = s.calibration();
    if (!c || c->result().trials.empty()) throw std::logic_error("calibration_scored_lines before a candidate was scored");
    if (c->cancelled()) return {};
    const auto& trials = c->result().trials;
    const std::string& name = trials.back().candidate;
    // The two numbers the choice is made on (lower is better): mu's error on the held-out counts
    // picks the training, each rule's error (the observed counts' changes included) its rule.
    std::string line = "zimpute: calibration: " + name + " training, " + std::to_string(trials.back().epochs) +
                       " epochs; held-out error of mu " + score_text(calibration_training_score(trials, name)) +
                       ", with each rule";
    for (const auto& t : trials)
        if (t.candidate == name) line += " " + to_string(t.rule) + " " + score_text(t.score);
    if (!c->done()) return {line, candidate_line(*c, c->candidate() + 1)};
    const CalibrationTrial& best = trials[c->result().chosen];
    return {line, "zimpute: calibration chose the " + best.candidate + " training (the lowest error of mu, " +
                      score_text(calibration_training_score(trials, best.candidate)) + ") with the " +
                      to_string(best.rule) + " rule (its lowest, " + score_text(best.score) +
                      "); training it on all the data"};
}

std::string summary_json(Session& s, double parse_seconds, const std::vector<std::pair<std::string, double>>& extra) {
    const Trainer* t = s.trainer();
    // With an ensemble: every member's epochs and seconds (member_epochs lists them).
    const std::vector<int> member_epochs = s.member_epochs();
    const int epochs = std::accumulate(member_epochs.begin(), member_epochs.end(), 0);
    const double train_seconds = s.trained_seconds();
    std::string j = "{\"parse_seconds\":" + json_number(parse_seconds) + ",\"train_seconds\":" +
                    json_number(train_seconds) + ",\"epochs\":" + std::to_string(epochs) +
                    ",\"recoveries\":" + std::to_string(t ? t->recoveries() : 0);
    if (epochs > 0) j += ",\"sec_per_epoch\":" + json_number(train_seconds / epochs);
    if (member_epochs.size() > 1) {
        j += ",\"member_epochs\":[";
        for (std::size_t k = 0; k < member_epochs.size(); ++k) j += (k ? "," : "") + std::to_string(member_epochs[k]);
        j += "]";
    }
    if (const Calibration* c = s.calibration(); c && c->done() && !c->cancelled())
        j += ",\"calibration_seconds\":" + json_number(c->seconds()) + ",\"calibration\":" + c->result().json();
    if (s.model())
        j += ",\"genes\":" + std::to_string(s.data().n_genes()) +
             ",\"genes_imputed\":" + std::to_string(s.imputed_genes().size());
    for (const auto& [k, v] : extra) j += ",\"" + k + "\":" + json_number(v);
    if (s.has_truth()) j += ",\"metrics\":" + s.report_json(false);  // the gene names: metrics.json only
    return j + "}";
}

}  // namespace zimpute
