// zimpute command line: the native driver of the command contract (cli/command.hpp), which the
// Node entry (wasm/zimpute-node.mjs) shares. This file reads and writes the files and prints
// what the contract formats; errors are one line on stderr and no output file is written on
// failure.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "../core/experiment.hpp"
#include "../core/split.hpp"
#include "command.hpp"
#include "experiment_table.hpp"

using namespace zimpute;

namespace {

ReadOptions read_options(const Command& c, const std::string& path) { return zimpute::read_options(input_layout(c), path); }

bool ends_with(const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

// --data is a CSV/TSV (maybe gzipped), or a 10x trio given as its directory or its matrix.mtx[.gz]
// (features.tsv or genes.tsv and barcodes.tsv, maybe gzipped, beside it).
struct TenxTrio {
    std::string mtx, features, barcodes;
};

bool is_tenx(const std::string& path) {
    return std::filesystem::is_directory(path) || ends_with(path, ".mtx") || ends_with(path, ".mtx.gz");
}

TenxTrio tenx_trio(const std::string& path) {
    namespace fs = std::filesystem;
    const bool is_dir = fs::is_directory(path);
    const fs::path dir = is_dir ? fs::path(path) : fs::path(path).parent_path();
    auto find = [&](std::initializer_list<const char*> names) {
        for (const char* n : names)
            for (const char* ext : {"", ".gz"})
                if (fs::exists(dir / (std::string(n) + ext))) return (dir / (std::string(n) + ext)).string();
        throw InputError("no " + std::string(*names.begin()) + " beside " + path + " (a 10x matrix needs its features/genes and barcodes files)");
    };
    return {is_dir ? find({"matrix.mtx"}) : path, find({"features.tsv", "genes.tsv"}), find({"barcodes.tsv"})};
}

// Sets parse_seconds to the parsing alone (files are read first), as the Node entry reports it.
const CountMatrix& load_input(Session& s, const std::string& path, const ReadOptions& r, double& parse_seconds) {
    const auto timed = [&](auto&& parse) -> const CountMatrix& {
        const auto t0 = std::chrono::steady_clock::now();
        const CountMatrix& m = parse();
        parse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return m;
    };
    if (!is_tenx(path)) {
        const std::string text = read_file(path);
        return timed([&]() -> const CountMatrix& { return s.load_data(text, r); });
    }
    const TenxTrio t = tenx_trio(path);
    const std::string m = read_file(t.mtx), f = read_file(t.features), b = read_file(t.barcodes);
    return timed([&]() -> const CountMatrix& { return s.load_mtx(m, f, b, t.mtx, t.features, t.barcodes); });
}

void say(const std::string& line) {
    if (!line.empty()) std::cerr << line << "\n";
}

void calibrate(Session& s, bool quiet) {
    Calibration& c = s.start_calibration();
    for (const auto& l : calibration_start_lines(s)) say(l);
    c.on_epoch = [&](const EpochReport& r) { say(progress_line(r, s.settings().train.epochs, quiet)); };
    std::size_t scored = 0;
    for (bool done = false; !done;) {
        done = c.step(1.0);
        if (c.result().trials.size() == scored) continue;
        scored = c.result().trials.size();
        for (const auto& l : calibration_scored_lines(s)) say(l);
    }
}

void train(Session& s, bool quiet) {
    if (s.settings().calibrate) calibrate(s, quiet);
    s.start_training();
    say(training_line(s));
    do {  // each member of an ensemble in turn
        if (s.members() > 1) say(member_line(s));
        Trainer& t = *s.trainer();
        t.on_epoch = [&](const EpochReport& r) { say(progress_line(r, t.epochs(), quiet)); };
        t.run();
    } while (s.next_member());
    say(recovery_line(s));
}

// Every output is streamed to a temporary file beside its path and renamed only after all of
// them were written, so a failure (a full disk) leaves no partial set. `write(k, sink)` streams
// file k, so no text copy of a matrix need be held in memory.
// Devices and pipes (written in place) go first: a pipe nobody reads blocks the writer, and
// then no temporary file is waiting beside a result.
void write_all(const std::vector<std::string>& paths, const std::function<void(std::size_t, const TextSink&)>& write) {
    std::vector<std::size_t> order(paths.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_partition(order.begin(), order.end(), [&](std::size_t k) {
        std::error_code ec;
        return std::filesystem::exists(paths[k], ec) && !std::filesystem::is_regular_file(paths[k], ec);
    });
    std::vector<std::unique_ptr<AtomicFile>> files;
    for (const std::size_t k : order) {
        files.push_back(std::make_unique<AtomicFile>(paths[k]));
        AtomicFile& f = *files.back();
        write(k, [&](std::string_view chunk) { f.write(chunk); });
    }
    for (auto& f : files) f->close();
    for (auto& f : files) f->commit();
}

void write_all(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(f.first);
    write_all(paths, [&](std::size_t k, const TextSink& sink) { sink(files[k].second); });
}

void write_outputs(Session& s, const Command& c) {
    const auto outputs = command_outputs(c);
    std::vector<std::string> paths;
    for (const auto& o : outputs) paths.push_back(o.first);
    write_all(paths, [&](std::size_t k, const TextSink& sink) { write_command_output(s, outputs[k].second, sink); });
}

// impute, train, apply: the steps the Node entry takes too.
void run_session(const Command& c) {
    Session s(command_settings(c));
    const std::string data = c.get("data");
    double parse_seconds = 0;
    for (const auto& w : load_input(s, data, read_options(c, data), parse_seconds).warnings) say(warning_line(data, w));
    if (c.has("truth"))
        for (const auto& w : s.load_truth(read_file(c.get("truth")), read_options(c, c.get("truth")))) say(warning_line(c.get("truth"), w));
    if (c.has("model"))
        s.load_model(read_file(c.get("model")), c.get("model"));
    else
        train(s, c.flag("quiet"));
    s.impute();
    write_outputs(s, c);
    std::cout << "RESULT_JSON " << summary_json(s, parse_seconds) << std::endl;
}

// A CSV/TSV input, its warnings said on stderr.
CountMatrix read_said(const Command& c, const std::string& path) {
    CountMatrix m = read_counts_file(path, read_options(c, path));
    for (const auto& w : m.warnings) say(warning_line(path, w));
    return m;
}

void evaluate(const Command& c) {
    const std::string data = c.get("data"), truth = c.get("truth"), imputed = c.get("imputed");
    const CountMatrix d = read_said(c, data);
    const CountMatrix t = read_said(c, truth);
    const CountMatrix i = read_said(c, imputed);
    const std::string json = metrics_json(compute_metrics(d.counts, align_truth(d, i), align_truth(d, t)));
    if (c.has("metrics")) write_file_atomic(c.get("metrics"), json + "\n");
    std::cout << "RESULT_JSON " << json << std::endl;
}

void split(const Command& c) {
    const std::string data = c.get("data");
    const CountMatrix d = read_said(c, data);
    const auto [test, val] = split_cells(d.n_cells(), split_fraction(c), split_seed(c));
    const std::vector<std::string> names = split_outputs(c);
    std::vector<std::pair<std::string, std::string>> files = {
        {names[0], write_counts(subset_cells(d, test), subset_cells(d, test).counts)},
        {names[1], write_counts(subset_cells(d, val), subset_cells(d, val).counts)}};
    if (c.has("truth")) {
        CountMatrix t = d;
        t.counts = align_truth(d, read_said(c, c.get("truth")));
        files.emplace_back(names[2], write_counts(subset_cells(t, test), subset_cells(t, test).counts));
        files.emplace_back(names[3], write_counts(subset_cells(t, val), subset_cells(t, val).counts));
    }
    write_all(files);
    std::cout << "RESULT_JSON {\"test_cells\":" << test.size() << ",\"validation_cells\":" << val.size() << "}\n";
}

void experiment(const Command& c) {
    const std::string data = c.get("data"), truth = c.get("truth");
    const CountMatrix d = read_said(c, data);
    const Eigen::MatrixXf t = align_truth(d, read_said(c, truth));
    const Settings base = command_settings(c);
    Experiment e(d, t, course_variants(base), split_fraction(c), base.seed);
    std::cerr << "zimpute: " << e.test_cells() << " test cells for training, " << e.validation_cells()
              << " validation cells for scoring\n";
    std::size_t reported = 0;
    while (!e.step(1.0))
        for (; reported < e.rows().size(); ++reported)
            std::cerr << "done: " << e.rows()[reported].name << " (" << e.rows()[reported].epochs << " epochs)\n";
    std::vector<std::pair<std::string, std::string>> files;
    if (c.has("out")) files.emplace_back(c.get("out"), experiment_table(e, "md"));
    if (c.has("csv")) files.emplace_back(c.get("csv"), experiment_table(e, "csv"));
    write_all(files);
    std::cout << experiment_table(e, "md");
    std::cout << "RESULT_JSON {\"variants\":" << e.rows().size() << ",\"best\":\""
              << (e.best() >= 0 ? e.rows()[static_cast<std::size_t>(e.best())].name : "") << "\"}" << std::endl;
}

void simulate(const Command& c) {
    const SimulateRun run = run_simulate(c);
    write_all(run.files);
    std::cout << "RESULT_JSON " << run.summary << "\n";
}

int run(const Command& c) {
    if (c.help()) {
        std::cout << usage_text();
        return c.name.empty() && !c.flag("help") ? 2 : 0;
    }
    CommandFiles files = command_files(c);
    // A 10x --data is three files: none may be written over (the contract does no I/O, so the
    // files beside the matrix are found here).
    if (c.has("data") && is_tenx(c.get("data"))) {
        const TenxTrio t = tenx_trio(c.get("data"));
        files.inputs.push_back({"data", t.mtx});
        files.inputs.push_back({"data", t.features});
        files.inputs.push_back({"data", t.barcodes});
    }
    check_output_paths(files.outputs, files.inputs);
    if (c.name == "impute" || c.name == "train" || c.name == "apply") run_session(c);
    if (c.name == "evaluate") evaluate(c);
    if (c.name == "split") split(c);
    if (c.name == "experiment") experiment(c);
    if (c.name == "simulate") simulate(c);
    return 0;
}

// Ctrl-C or a kill while outputs are being written: no temporary file is left behind.
extern "C" void on_signal(int sig) {
    remove_temporary_files();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        return run(parse_command(std::vector<std::string>(argv + 1, argv + argc)));
    } catch (const UsageError& e) {
        std::cerr << "zimpute: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "zimpute: error: " << e.what() << "\n";
        return 1;
    }
}
