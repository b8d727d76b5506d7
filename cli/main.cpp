// zimpute command line: a thin shell over core/Session. Every option key of core/settings is a
// --flag here; errors are one line on stderr and no output file is written on failure.
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../core/experiment.hpp"
#include "../core/session.hpp"
#include "../core/simulate.hpp"
#include "../core/split.hpp"

using namespace zimpute;

namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

const char* kUsage = R"(zimpute - denoise single-cell count matrices with a ZINB autoencoder (DCA)

usage:
  zimpute impute   --data data.csv --out result.csv [--truth truedata.csv] [--metrics m.json]
                   [--save model.zim] [--pi pi.csv] [--mu mu.csv] [--theta theta.csv]
                   [--latent latent.csv] [options]
  zimpute train    --data data.csv --save model.zim [options]
  zimpute apply    --model model.zim --data data.csv --out result.csv [--truth t.csv] [--metrics m.json]
  zimpute evaluate --data data.csv --truth truedata.csv --imputed result.csv [--metrics m.json]
  zimpute split    --data data.csv [--truth truedata.csv] --out-prefix P [--fraction 0.7] [--seed 42]
                   writes P_test.csv and P_validation.csv (and P_test_truth.csv, P_validation_truth.csv)
  zimpute experiment --data test_data.csv --truth test_truedata.csv [--fraction 0.7] [--seed 42]
                   [--epochs 300] [--out table.md] [--csv table.csv]
                   the course experiment: split cells 7:3, train Models I-IV (BatchNorm on/off x
                   original/guarded loss), the DCA preset and the defaults on the 70%, compare on the 30%
  zimpute simulate --out data.csv [--truth-out truedata.csv] [--genes 1000] [--cells 600]
                   [--groups 3] [--zero-fraction 0.6] [--seed 1]

input files: genes in rows, cells in columns, a header row of cell names (the course's
test_data.csv); an index column of gene names is optional. Comma, tab or semicolon; gzip is
recognised. --data may also be a 10x directory or its matrix.mtx[.gz] (with features.tsv or
genes.tsv and barcodes.tsv beside it); results are then written as CSV with a gene column.
  --cells-in-rows     the file has cells in rows and genes in columns
  --genes-in-rows     the file has genes in rows, whatever its labels look like (by default a
                      header of gene names and no cell-like names is read as cells in rows, and
                      a warning says so)
  --preset NAME       start from default, dca or course settings, then apply the options below
  --quiet             no per-epoch progress on stderr

options (default):
)";

void print_help() {
    std::cout << kUsage;
    for (const auto& d : option_docs()) {
        std::string flag = "  --" + d.key + " " + (d.default_value.empty() ? "\"\"" : d.default_value);
        if (flag.size() < 28) flag.resize(28, ' ');
        std::cout << flag << "  " << d.help << "\n";
    }
    std::cout << "\nThe last line on stdout is RESULT_JSON {...} with timing (and metrics with --truth).\n";
}

struct Args {
    std::string command;
    std::map<std::string, std::string> values;
    std::set<std::string> flags;
    bool has(const std::string& k) const { return values.count(k) > 0; }
    std::string get(const std::string& k, const std::string& def = "") const {
        const auto it = values.find(k);
        return it == values.end() ? def : it->second;
    }
    std::string need(const std::string& k) const {
        if (!has(k)) throw UsageError("'" + command + "' needs --" + k);
        return get(k);
    }
};

Args parse(int argc, char** argv) {
    static const std::set<std::string> bare = {"cells-in-rows", "genes-in-rows", "quiet", "help"};
    Args a;
    int i = 1;
    if (i < argc && argv[i][0] != '-') a.command = argv[i++];
    for (; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "-h") s = "--help";
        if (s.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + s + "'");
        s = s.substr(2);
        const auto eq = s.find('=');
        if (eq != std::string::npos) {
            a.values[s.substr(0, eq)] = s.substr(eq + 1);
        } else if (bare.count(s)) {
            a.flags.insert(s);
        } else {
            if (i + 1 >= argc) throw UsageError("--" + s + " needs a value");
            a.values[s] = argv[++i];
        }
    }
    return a;
}

// Keys that are files or commands rather than model settings.
const std::set<std::string> kPlumbing = {"data", "out", "truth", "metrics", "save", "model", "pi", "mu", "theta",
                                         "imputed", "latent", "out-prefix", "fraction", "truth-out", "genes", "cells",
                                         "groups", "zero-fraction", "preset", "csv"};

Settings settings_from(const Args& a) {
    Settings s = preset(a.get("preset", "default"));
    for (const auto& [k, v] : a.values)
        if (!kPlumbing.count(k)) set_option(s, k, v);
    return s;
}

ReadOptions read_options(const Args& a, const std::string& path) {
    ReadOptions r;
    r.cells_in_rows = a.flags.count("cells-in-rows") > 0;
    r.detect_orientation = a.flags.count("genes-in-rows") == 0;
    r.source = path;
    return r;
}

bool ends_with(const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

// --data is a CSV/TSV (maybe gzipped), or a 10x trio given as its directory or its matrix.mtx[.gz]
// (features.tsv or genes.tsv and barcodes.tsv, maybe gzipped, beside it).
// Sets parse_seconds to the parsing alone (files are read first), as the Node entry reports it.
const CountMatrix& load_input(Session& s, const std::string& path, const ReadOptions& r, double& parse_seconds) {
    namespace fs = std::filesystem;
    const auto timed = [&](auto&& parse) -> const CountMatrix& {
        const auto t0 = std::chrono::steady_clock::now();
        const CountMatrix& m = parse();
        parse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return m;
    };
    const bool is_dir = fs::is_directory(path);
    if (!is_dir && !ends_with(path, ".mtx") && !ends_with(path, ".mtx.gz")) {
        const std::string text = read_file(path);
        return timed([&]() -> const CountMatrix& { return s.load_data(text, r); });
    }
    const fs::path dir = is_dir ? fs::path(path) : fs::path(path).parent_path();
    auto find = [&](std::initializer_list<const char*> names) {
        for (const char* n : names)
            for (const char* ext : {"", ".gz"})
                if (fs::exists(dir / (std::string(n) + ext))) return (dir / (std::string(n) + ext)).string();
        throw InputError("no " + std::string(*names.begin()) + " beside " + path + " (a 10x matrix needs its features/genes and barcodes files)");
    };
    const std::string mtx = is_dir ? find({"matrix.mtx"}) : path;
    const std::string features = find({"features.tsv", "genes.tsv"}), barcodes = find({"barcodes.tsv"});
    const std::string m = read_file(mtx), f = read_file(features), b = read_file(barcodes);
    return timed([&]() -> const CountMatrix& { return s.load_mtx(m, f, b, mtx, features, barcodes); });
}

void print_warnings(const CountMatrix& m, const std::string& path) {
    for (const auto& w : m.warnings) std::cerr << "zimpute: warning: " << path << ": " << w << "\n";
}

void train(Session& s, const Args& a) {
    Trainer& t = s.start_training();
    const bool quiet = a.flags.count("quiet") > 0;
    std::cerr << "zimpute: training on " << t.n_train() << " cells (" << t.n_validation() << " for validation), "
              << s.data().n_genes() << " genes\n";
    t.on_epoch = [&](const EpochReport& r) {
        if (quiet && r.event.empty()) return;
        char line[256];
        std::snprintf(line, sizeof line, "epoch %d/%d  train %.5f  val %.5f  lr %.3g  %.3f s", r.epoch, t.epochs(),
                      r.train_loss, r.val_loss, r.learning_rate, r.seconds);
        std::cerr << line << (r.event.empty() ? "" : "  [" + r.event + "]") << "\n";
    };
    t.run();
    if (t.recoveries() > 0)
        std::cerr << "zimpute: training diverged " << t.recoveries() << " time(s) and recovered each time (earlier weights "
                  << "restored, learning rate halved; it ended at " << t.learning_rate() << ")\n";
}

std::string timing_json(Session& s, double parse_seconds) {
    const Trainer* t = s.trainer();
    std::string j = "\"parse_seconds\":" + std::to_string(parse_seconds) +
                    ",\"train_seconds\":" + std::to_string(t ? t->train_seconds() : 0.0) +
                    ",\"epochs\":" + std::to_string(t ? t->epoch() : 0) +
                    ",\"recoveries\":" + std::to_string(t ? t->recoveries() : 0);
    if (t && t->epoch() > 0) j += ",\"sec_per_epoch\":" + std::to_string(t->train_seconds() / t->epoch());
    return j;
}

void write_outputs(Session& s, const Args& a, const std::string& timing) {
    // Every output is streamed to a temporary file beside its path and renamed only after all of
    // them were written, so a failure (a full disk) leaves no partial set and no text copy of a
    // matrix is ever held in memory.
    std::vector<std::unique_ptr<AtomicFile>> files;
    auto stream = [&](const std::string& path, const std::string& which) {
        files.push_back(std::make_unique<AtomicFile>(path));
        AtomicFile& f = *files.back();
        s.write_output(which, [&](std::string_view chunk) { f.write(chunk); });
    };
    auto text = [&](const std::string& path, const std::string& content) {
        files.push_back(std::make_unique<AtomicFile>(path));
        files.back()->write(content);
    };
    if (a.has("out")) stream(a.get("out"), "result");
    for (const char* m : {"pi", "mu", "theta", "latent"})
        if (a.has(m)) stream(a.get(m), m);
    if (a.has("save")) stream(a.get("save"), "model");
    std::string result = "{" + timing;
    if (s.has_truth()) {
        const std::string report = s.report_json();
        if (a.has("metrics")) text(a.get("metrics"), report + "\n");
        result += ",\"metrics\":" + report;
    } else if (a.has("metrics")) {
        text(a.get("metrics"), s.report_json() + "\n");
    }
    for (auto& f : files) f->close();
    for (auto& f : files) f->commit();
    std::cout << "RESULT_JSON " << result << "}" << std::endl;
}

int run(const Args& a) {
    if (a.flags.count("help") || a.command.empty() || a.command == "help") {
        print_help();
        return a.command.empty() && !a.flags.count("help") ? 2 : 0;
    }
    if (a.command == "impute" || a.command == "train" || a.command == "apply") {
        Session s(settings_from(a));
        const std::string data = a.need("data");
        if (a.command != "train") a.need("out");
        if (a.command == "train") a.need("save");
        double parse_seconds = 0;
        print_warnings(load_input(s, data, read_options(a, data), parse_seconds), data);
        if (a.has("truth")) s.load_truth(read_file(a.get("truth")), read_options(a, a.get("truth")));
        if (a.command == "apply") {
            const std::string model = a.need("model");
            s.load_model(read_file(model), model);
        } else {
            train(s, a);
        }
        s.impute();
        write_outputs(s, a, timing_json(s, parse_seconds));
        return 0;
    }
    if (a.command == "evaluate") {
        const std::string data = a.need("data"), truth = a.need("truth"), imputed = a.need("imputed");
        const CountMatrix d = read_counts_file(data, read_options(a, data));
        const CountMatrix t = read_counts_file(truth, read_options(a, truth));
        const CountMatrix i = read_counts_file(imputed, read_options(a, imputed));
        const std::string json = metrics_json(compute_metrics(d.counts, align_truth(d, i), align_truth(d, t)));
        if (a.has("metrics")) write_file_atomic(a.get("metrics"), json + "\n");
        std::cout << "RESULT_JSON " << json << std::endl;
        return 0;
    }
    if (a.command == "split") {
        const std::string data = a.need("data"), prefix = a.need("out-prefix");
        const CountMatrix d = read_counts_file(data, read_options(a, data));
        const auto [test, val] = split_cells(d.n_cells(), std::stod(a.get("fraction", "0.7")),
                                             std::stoull(a.get("seed", "42")));
        std::vector<std::pair<std::string, std::string>> files = {
            {prefix + "_test.csv", write_counts(subset_cells(d, test), subset_cells(d, test).counts)},
            {prefix + "_validation.csv", write_counts(subset_cells(d, val), subset_cells(d, val).counts)}};
        if (a.has("truth")) {
            CountMatrix t = d;
            t.counts = align_truth(d, read_counts_file(a.get("truth"), read_options(a, a.get("truth"))));
            files.emplace_back(prefix + "_test_truth.csv", write_counts(subset_cells(t, test), subset_cells(t, test).counts));
            files.emplace_back(prefix + "_validation_truth.csv", write_counts(subset_cells(t, val), subset_cells(t, val).counts));
        }
        for (const auto& [p, c] : files) write_file_atomic(p, c);
        std::cout << "RESULT_JSON {\"test_cells\":" << test.size() << ",\"validation_cells\":" << val.size() << "}\n";
        return 0;
    }
    if (a.command == "experiment") {
        const std::string data = a.need("data"), truth = a.need("truth");
        const CountMatrix d = read_counts_file(data, read_options(a, data));
        const Eigen::MatrixXf t = align_truth(d, read_counts_file(truth, read_options(a, truth)));
        const Settings base = settings_from(a);
        Experiment e(d, t, course_variants(base), std::stod(a.get("fraction", "0.7")), base.seed);
        std::cerr << "zimpute: " << e.test_cells() << " test cells for training, " << e.validation_cells()
                  << " validation cells for scoring\n";
        std::size_t reported = 0;
        while (!e.step(1.0))
            for (; reported < e.rows().size(); ++reported)
                std::cerr << "done: " << e.rows()[reported].name << " (" << e.rows()[reported].epochs << " epochs)\n";
        std::vector<std::pair<std::string, std::string>> files;
        if (a.has("out")) files.emplace_back(a.get("out"), e.table_markdown());
        if (a.has("csv")) files.emplace_back(a.get("csv"), e.table_csv());
        for (const auto& [p, c] : files) write_file_atomic(p, c);
        std::cout << e.table_markdown();
        std::cout << "RESULT_JSON {\"variants\":" << e.rows().size() << ",\"best\":\""
                  << (e.best() >= 0 ? e.rows()[static_cast<std::size_t>(e.best())].name : "") << "\"}" << std::endl;
        return 0;
    }
    if (a.command == "simulate") {
        SimulateOptions o;
        o.genes = std::stoi(a.get("genes", "1000"));
        o.cells = std::stoi(a.get("cells", "600"));
        o.groups = std::stoi(a.get("groups", "3"));
        o.zero_fraction = std::stod(a.get("zero-fraction", "0.6"));
        o.seed = std::stoull(a.get("seed", "1"));
        const auto t0 = std::chrono::steady_clock::now();
        const Simulation sim = simulate(o);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const std::string out = a.need("out");
        std::vector<std::pair<std::string, std::string>> files = {{out, write_counts(sim.observed, sim.observed.counts)}};
        if (a.has("truth-out")) files.emplace_back(a.get("truth-out"), write_counts(sim.truth, sim.truth.counts));
        for (const auto& [p, c] : files) write_file_atomic(p, c);
        const double zeros = static_cast<double>((sim.observed.counts.array() == 0).count()) / sim.observed.counts.size();
        std::cout << "RESULT_JSON {\"genes\":" << o.genes << ",\"cells\":" << o.cells << ",\"zero_fraction\":" << zeros
                  << ",\"seconds\":" << secs << "}\n";
        return 0;
    }
    throw UsageError("unknown command '" + a.command + "' (try zimpute --help)");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const UsageError& e) {
        std::cerr << "zimpute: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "zimpute: error: " << e.what() << "\n";
        return 1;
    }
}
