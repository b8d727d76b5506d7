// The command contract shared by both drivers: the native `zimpute` (cli/main.cpp) and the Node
// entry (wasm/zimpute-node.mjs, through wasm/command_binding.cpp). Arguments, which keys each
// command takes, settings from preset + options, simulate's options, the lines printed to
// stderr and the RESULT_JSON summary are defined here once. No file I/O: the drivers read and
// write files and print what this formats.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../core/output_file.hpp"
#include "../core/session.hpp"
#include "../core/simulate.hpp"

namespace zimpute {

/// A mistake in the command line itself (exit code 2; other errors exit 1).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

using Options = std::map<std::string, std::string>;

/// `zimpute NAME --key value --key=value --flag ...`
struct Command {
    std::string name;
    Options options;              ///< every --key value and --key=value
    std::set<std::string> flags;  ///< bare flags: cells-in-rows, genes-in-rows, quiet, help

    bool has(const std::string& key) const { return options.count(key) > 0; }
    std::string get(const std::string& key, const std::string& fallback = "") const;
    bool flag(const std::string& f) const { return flags.count(f) > 0; }
    /// --help, `help`, or no command at all.
    bool help() const { return name.empty() || name == "help" || flag("help"); }
};

/// Parses the arguments after the program's name and checks them against the command's keys:
/// an unknown command, a missing required key or a key the command does not take is a
/// UsageError; an unknown or invalid setting is std::invalid_argument (set_option's message).
/// A help request is returned unchecked.
Command parse_command(const std::vector<std::string>& args);

/// The usage text (`zimpute --help`), with every option and its default.
std::string usage_text();

/// Settings: the preset named by "preset" (default "default"), then every other key through
/// set_option. The page's option objects and the command line both come through here.
Settings settings_from_options(const Options& options);
/// The options of `c` that are settings (all but the command's own keys), preset included.
Options settings_options(const Command& c);
Settings command_settings(const Command& c);

/// How CSV/TSV inputs are laid out, as the command line and the page say it: orientation "cells"
/// (--cells-in-rows), "genes" (--genes-in-rows) or "auto"; header and row names (--header,
/// --row-names) "yes", "no" or "auto" (decided from the file).
struct InputLayout {
    std::string orientation = "auto", header = "auto", row_names = "auto";
};
InputLayout input_layout(const Command& c);
/// Throws std::invalid_argument for a value that is none of the above.
ReadOptions read_options(const InputLayout& layout, const std::string& source);

/// The files a training/imputation command writes, in order, as (path, what): what is an
/// output of Session::write_output, or "metrics" (the report JSON).
std::vector<std::pair<std::string, std::string>> command_outputs(const Command& c);
/// Streams one of command_outputs' "what"s to `sink`.
void write_command_output(Session& s, const std::string& what, const TextSink& sink);

/// The files `split` writes: P_test.csv, P_validation.csv (and P_test_truth.csv,
/// P_validation_truth.csv with --truth), P the --out-prefix.
std::vector<std::string> split_outputs(const Command& c);

/// Every file a command reads and writes, by option, for check_output_paths before any work.
struct CommandFiles {
    std::vector<NamedPath> inputs, outputs;
};
CommandFiles command_files(const Command& c);

/// split's and experiment's --fraction (default 0.7) and split's --seed (default 42).
double split_fraction(const Command& c);
std::uint64_t split_seed(const Command& c);

/// simulate's options from keys genes, cells, groups, zero-fraction, seed (others ignored).
SimulateOptions simulate_options(const Options& options);

/// `simulate`: the files to write as (path, content) and the RESULT_JSON summary.
struct SimulateRun {
    std::vector<std::pair<std::string, std::string>> files;
    std::string summary;
};
SimulateRun run_simulate(const Command& c);

// The lines a driver prints to stderr (without the newline).
std::string warning_line(const std::string& path, const std::string& warning);
/// "zimpute: training on N cells (V for validation), G genes" (after start_training), and when the
/// gene selection left out genes with counts (--top-genes, --min-gene-counts) a second line
/// "zimpute: imputing the K most variable of G genes (--top-genes; 0 = all); the others are
/// written unchanged".
std::string training_line(Session& s);
/// "zimpute: ensemble member k/N (seed S)": after start_training (when N > 1) and each next_member.
std::string member_line(Session& s);
/// One epoch's line; empty when `quiet` and the epoch has no event to report.
std::string progress_line(const EpochReport& r, int epochs, bool quiet);
/// The closing line after divergence recoveries; empty without any.
std::string recovery_line(Session& s);
/// After start_calibration: what is held out and tried, then the first candidate's line.
std::vector<std::string> calibration_start_lines(Session& s);
/// After a calibration step that scored a candidate: its scores, then the next candidate's line,
/// or (calibration done) the choice. The driver then calls start_training and training_line.
std::vector<std::string> calibration_scored_lines(Session& s);

/// RESULT_JSON's object for impute/train/apply: parse_seconds, train_seconds, epochs,
/// recoveries, sec_per_epoch (after an epoch), calibration_seconds and calibration
/// (CalibrationResult::json(), with calibrate), genes and genes_imputed (with a model), the
/// driver's `extra` numbers, and metrics (with a truth; the report without the gene names).
std::string summary_json(Session& s, double parse_seconds, const std::vector<std::pair<std::string, double>>& extra = {});

}  // namespace zimpute
