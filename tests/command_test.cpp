// The command contract both drivers share (cli/command.hpp): argument syntax, which keys each
// command takes, settings from preset + options, simulate's options, the printed lines and the
// RESULT_JSON summary.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "../cli/command.hpp"
#include "count_writer.hpp"

using namespace zimpute;

namespace {

Command parse(std::vector<std::string> args) { return parse_command(args); }

std::string usage_message(std::vector<std::string> args) {
    try {
        parse_command(args);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "no usage error";
}

struct Files {
    std::string data, truth;
};

Files sim_files() {
    const Simulation sim = simulate(simulate_options({{"genes", "60"}, {"cells", "50"}, {"seed", "2"}}));
    return {write_counts(sim.observed, sim.observed.counts), write_counts(sim.truth, sim.truth.counts)};
}

// A session trained in place (the trainer refers into it, so it is never moved).
std::unique_ptr<Session> trained(int epochs, bool with_truth) {
    const Files f = sim_files();
    Settings s;
    s.train.epochs = epochs;
    s.train.threads = 1;
    auto session = std::make_unique<Session>(s);
    session->load_data(f.data, read_options(InputLayout{}, "d.csv"));
    if (with_truth) session->load_truth(f.truth, read_options(InputLayout{}, "t.csv"));
    session->start_training().run();
    session->impute();
    return session;
}

}  // namespace

TEST_CASE("arguments: --key value, --key=value, bare flags, -h") {
    const Command c = parse({"impute", "--data", "d.csv", "--out=r=1.csv", "--quiet", "--epochs=3", "--cells-in-rows"});
    CHECK(c.name == "impute");
    CHECK(c.get("data") == "d.csv");
    CHECK(c.get("out") == "r=1.csv");  // split at the first '='
    CHECK(c.get("epochs") == "3");
    CHECK(c.flag("quiet"));
    CHECK(c.flag("cells-in-rows"));
    CHECK_FALSE(c.help());
    CHECK(input_layout(c).orientation == "cells");
    CHECK(input_layout(parse({"impute", "--data", "d", "--out", "r", "--genes-in-rows"})).orientation == "genes");
    const InputLayout plain = input_layout(parse({"impute", "--data", "d", "--out", "r"}));
    CHECK((plain.orientation == "auto" && plain.header == "auto" && plain.row_names == "auto"));
    // --header and --row-names reach the reader; a value other than auto, yes or no is a usage error
    const InputLayout given = input_layout(parse({"impute", "--data", "d", "--out", "r", "--header", "no", "--row-names=yes"}));
    const ReadOptions r = read_options(given, "d");
    CHECK((r.header == Presence::no && r.row_names == Presence::yes));
    CHECK_THROWS_WITH_AS(parse({"impute", "--data", "d", "--out", "r", "--header", "maybe"}),
                         "--header must be auto, yes or no, not 'maybe'", UsageError);
    CHECK_THROWS_WITH_AS(parse({"split", "--data", "d", "--out-prefix", "p", "--row-names", "1"}),
                         "--row-names must be auto, yes or no, not '1'", UsageError);
    CHECK_THROWS_AS(parse({"simulate", "--out", "d", "--header", "yes"}), UsageError);  // simulate reads no file
    // the last of a repeated key wins
    CHECK(parse({"impute", "--data", "a", "--data", "b", "--out", "r"}).get("data") == "b");
}

TEST_CASE("help: no command, `help`, --help and -h; a help request is not checked") {
    CHECK(parse({}).help());
    CHECK(parse({"help"}).help());
    CHECK(parse({"-h"}).help());
    CHECK(parse({"impute", "--help"}).help());    // --data and --out missing: still help
    CHECK(parse({"nonsense", "--help"}).help());  // unknown command: still help
    const std::string u = usage_text();
    for (const auto& d : option_docs()) CHECK(u.find("--" + d.key + " ") != std::string::npos);
    CHECK(u.find("--key=value") != std::string::npos);
}

TEST_CASE("usage errors name what is wrong") {
    CHECK(usage_message({"impute", "data.csv"}) == "unexpected argument 'data.csv'");
    CHECK(usage_message({"impute", "--data"}) == "--data needs a value");
    CHECK(usage_message({"impute", "--=x"}) == "unexpected argument '--=x'");
    CHECK(usage_message({"frobnicate"}) == "unknown command 'frobnicate' (try zimpute --help)");
    CHECK(usage_message({"impute", "--out", "r.csv"}) == "'impute' needs --data");
    CHECK(usage_message({"impute", "--data", "d.csv"}) == "'impute' needs --out");
    CHECK(usage_message({"train", "--data", "d.csv"}) == "'train' needs --save");
    CHECK(usage_message({"apply", "--data", "d", "--out", "r"}) == "'apply' needs --model");
    // A key of another command is a mistake here, not a silent no-op: impute never loads a model.
    CHECK(usage_message({"impute", "--data", "d", "--out", "r", "--model", "m.zim"}) == "'impute' does not take --model");
    CHECK(usage_message({"impute", "--data", "d", "--out", "r", "--fraction", "0.5"}) ==
          "'impute' does not take --fraction");
    CHECK(usage_message({"simulate", "--out", "d", "--epochs", "3"}) == "'simulate' does not take --epochs");
    CHECK(usage_message({"apply", "--model", "m", "--data", "d", "--out", "r", "--epochs", "3"}) ==
          "'apply' does not take --epochs (a model brings its own settings; only --threads applies)");
    CHECK(usage_message({"apply", "--model", "m", "--data", "d", "--out", "r", "--threads", "1"}) == "no usage error");
    CHECK(usage_message({"simulate", "--out", "d", "--genes", "many"}) == "--genes must be a whole number, not 'many'");
    CHECK(usage_message({"simulate", "--out", "d", "--cells", "1.5"}) == "--cells must be a whole number, not '1.5'");
    CHECK(usage_message({"simulate", "--out", "d", "--genes", "0x10"}) == "--genes must be a whole number, not '0x10'");
    CHECK(usage_message({"split", "--data", "d", "--out-prefix", "p", "--fraction", " 0.5"}) ==
          "--fraction must be a number, not ' 0.5'");
    CHECK(usage_message({"simulate", "--out", "d", "--zero-fraction", "0.5x"}) ==
          "--zero-fraction must be a number, not '0.5x'");
    CHECK(usage_message({"split", "--data", "d", "--out-prefix", "p", "--seed", "-1"}) ==
          "--seed must be a whole number, not '-1'");
    // A model file holds one network: an ensemble cannot be saved, said before any training.
    CHECK(usage_message({"train", "--data", "d", "--save", "m.zim", "--ensemble", "2"}) ==
          "--save needs --ensemble 1: a model file holds one network, and an ensemble averages several");
    CHECK(usage_message({"impute", "--data", "d", "--out", "r", "--save", "m.zim", "--ensemble", "1"}) == "no usage error");
    CHECK(usage_message({"impute", "--data", "d", "--out", "r", "--ensemble", "3"}) == "no usage error");
}

TEST_CASE("unknown options and bad values are set_option's errors, found while parsing") {
    CHECK_THROWS_WITH_AS(parse({"impute", "--data", "d", "--out", "r", "--epoch", "3"}),
                         doctest::Contains("unknown option 'epoch'"), std::invalid_argument);
    CHECK_THROWS_AS(parse({"impute", "--data", "d", "--out", "r", "--epochs", "zero"}), std::invalid_argument);
    CHECK_THROWS_AS(parse({"experiment", "--data", "d", "--truth", "t", "--preset", "nope"}), std::invalid_argument);
}

TEST_CASE("settings: the preset first, then every option; a command's own keys are no settings") {
    const Command c = parse({"impute", "--data", "d", "--out", "r", "--preset", "course", "--epochs", "7", "--seed", "5"});
    const Options o = settings_options(c);
    CHECK(o.size() == 3);  // preset, epochs, seed
    CHECK_FALSE(o.count("data"));
    const Settings s = command_settings(c);
    const Settings course = preset("course");
    CHECK(s.train.epochs == 7);
    CHECK(s.seed == 5);
    CHECK(s.rule == course.rule);
    CHECK(s.network.batchnorm == course.network.batchnorm);
    CHECK(settings_from_options({{"learning-rate", "0.5"}}).train.optimizer.learning_rate == doctest::Approx(0.5));
    // experiment: --seed is the settings' seed (it also seeds the split); --fraction is its own
    const Command e = parse({"experiment", "--data", "d", "--truth", "t", "--seed", "9", "--fraction", "0.6"});
    CHECK(command_settings(e).seed == 9);
    CHECK_FALSE(settings_options(e).count("fraction"));
    CHECK(split_fraction(e) == doctest::Approx(0.6));
    // split: --seed and --fraction are the split's
    const Command sp = parse({"split", "--data", "d", "--out-prefix", "p", "--seed", "3"});
    CHECK(split_seed(sp) == 3);
    CHECK(split_fraction(sp) == doctest::Approx(0.7));
    CHECK(settings_options(sp).empty());
}

TEST_CASE("outputs: in a fixed order, metrics as the report") {
    const Command c = parse({"impute", "--data", "d", "--out", "r.csv", "--metrics", "m.json", "--latent", "l.csv",
                             "--save", "m.zim", "--pi", "p.csv"});
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"r.csv", "result"}, {"p.csv", "pi"}, {"l.csv", "latent"}, {"m.zim", "model"}, {"m.json", "metrics"}};
    CHECK(command_outputs(c) == expected);
    CHECK(command_outputs(parse({"train", "--data", "d", "--save", "m.zim"})).size() == 1);
}

TEST_CASE("simulate: options read once; files and summary") {
    const SimulateOptions d = simulate_options({});
    CHECK(d.genes == 1000);
    CHECK(d.cells == 600);
    const SimulateOptions o = simulate_options({{"genes", "30"}, {"cells", "20"}, {"zero-fraction", "0.5"}, {"seed", "7"}});
    CHECK(o.genes == 30);
    CHECK(o.cells == 20);
    CHECK(o.zero_fraction == doctest::Approx(0.5));
    CHECK(o.seed == 7);
    const SimulateRun run = run_simulate(parse({"simulate", "--out", "d.csv", "--truth-out", "t.csv", "--genes", "30",
                                                "--cells", "20", "--seed", "7"}));
    REQUIRE(run.files.size() == 2);
    CHECK(run.files[0].first == "d.csv");
    CHECK(run.files[0].second.rfind("Cell1,Cell2,", 0) == 0);
    CHECK(run.files[1].first == "t.csv");
    CHECK(run.summary.rfind("{\"genes\":30,\"cells\":20,\"zero_fraction\":0.", 0) == 0);
    CHECK(run.summary.find(",\"seconds\":") != std::string::npos);
}

TEST_CASE("progress line: fixed format, events in brackets, quiet keeps only events") {
    EpochReport r{3, 1.234567, 2.5, 0.01, 0.0456, false, ""};  // epoch, train, val, lr, seconds, improved, event
    CHECK(progress_line(r, 300, false) == "epoch 3/300  train 1.23457  val 2.50000  lr 0.01  0.046 s");
    CHECK(progress_line(r, 300, true).empty());
    r.event = "learning rate cut to 0.001";
    r.val_loss = std::nan("");
    CHECK(progress_line(r, 300, true) == "epoch 3/300  train 1.23457  val nan  lr 0.01  0.046 s  [learning rate cut to 0.001]");
    CHECK(warning_line("d.csv", "non-integer values") == "zimpute: warning: d.csv: non-integer values");
}

TEST_CASE("summary: timing, epochs, recoveries, the driver's numbers, metrics with a truth") {
    const auto s = trained(2, true);
    CHECK(training_line(*s).rfind("zimpute: training on ", 0) == 0);
    CHECK(training_line(*s).find(", 60 genes") != std::string::npos);
    CHECK(recovery_line(*s).empty());
    const std::string j = summary_json(*s, 0.25, {{"wasm_heap_mb", 16}});
    CHECK(j.rfind("{\"parse_seconds\":0.25,\"train_seconds\":", 0) == 0);
    CHECK(j.find(",\"epochs\":2,\"recoveries\":0,\"sec_per_epoch\":") != std::string::npos);
    CHECK(j.find(",\"wasm_heap_mb\":16,\"metrics\":{\"zero_num\":") != std::string::npos);
    CHECK(j.back() == '}');
    const std::string bare = summary_json(*trained(1, false), 0);
    CHECK(bare.find("\"metrics\"") == std::string::npos);
    CHECK(bare.find("\"epochs\":1,") != std::string::npos);
    // A session that did not train (apply) reports zero epochs and no sec_per_epoch.
    Session applied;
    applied.load_data(sim_files().data, read_options(InputLayout{}, "d.csv"));
    applied.load_model(s->model_bytes(), "m.zim");
    applied.impute();
    CHECK_THROWS(training_line(applied));
    CHECK(recovery_line(applied).empty());
    CHECK(summary_json(applied, 0) == "{\"parse_seconds\":0,\"train_seconds\":0,\"epochs\":0,\"recoveries\":0,\"genes\":60,"
                                      "\"genes_imputed\":" + std::to_string(applied.imputed_genes().size()) + "}");
}
