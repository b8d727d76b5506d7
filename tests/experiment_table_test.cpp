// The experiment's table (cli/experiment_table): Markdown with the best row marked, CSV with a
// `best` column; the native `experiment` command prints it and the page downloads it.
#include <doctest/doctest.h>

#include <algorithm>

#include "../cli/command.hpp"
#include "../cli/experiment_table.hpp"

using namespace zimpute;

namespace {

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("the experiment's table in Markdown and CSV, the best row marked once") {
    const Simulation s = simulate(simulate_options({{"genes", "80"}, {"cells", "60"}, {"seed", "5"}}));
    Settings base;
    base.train.epochs = 2;
    base.train.threads = 1;
    Experiment e(s.observed, s.truth.counts, course_variants(base), 0.7, 3);
    CHECK(experiment_table(e, "md").find("(best)") == std::string::npos);  // no rows yet
    while (!e.step(1.0)) {
    }
    REQUIRE(e.best() >= 0);
    const std::string md = experiment_table(e, "md");
    CHECK(md.rfind("| model | zero count | true dropouts |", 0) == 0);
    CHECK(lines(md) == 2 + 6);
    const std::string best = e.rows()[static_cast<std::size_t>(e.best())].name;
    CHECK(md.find("| **" + best + " (best)** |") != std::string::npos);
    CHECK((md.find("| zimpute defaults |") != std::string::npos || best == "zimpute defaults"));

    const std::string csv = experiment_table(e, "csv");
    CHECK(csv.rfind("model,zero_num,true_dropout_num,", 0) == 0);
    CHECK(lines(csv) == 1 + 6);
    CHECK(csv.find("\"" + best + "\",") != std::string::npos);
    std::size_t yes = 0;
    for (std::size_t p = csv.find(",yes\n"); p != std::string::npos; p = csv.find(",yes\n", p + 1)) ++yes;
    CHECK(yes == 1);
    CHECK(experiment_table(e, "markdown") == md);
    CHECK_THROWS_WITH_AS(experiment_table(e, "html"), "table format must be md or csv, not 'html'", std::invalid_argument);
}
