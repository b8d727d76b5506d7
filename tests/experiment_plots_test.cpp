// What the page's experiment panel plots (wasm/experiment_plots): strided samples of true
// dropouts and true zeros, and the heatmap of the genes with the most true dropouts.
#include <doctest/doctest.h>

#include <algorithm>

#include "../cli/command.hpp"
#include "../wasm/experiment_plots.hpp"

using namespace zimpute;

TEST_CASE("plot samples: strided, on the right entries, heatmap of the most-dropout genes") {
    const Simulation sim = simulate(simulate_options({{"genes", "70"}, {"cells", "50"}, {"seed", "6"}}));
    Session s(settings_from_options({{"epochs", "2"}, {"threads", "1"}}));
    s.set_data(sim.observed);
    s.set_truth(sim.truth.counts);
    s.start_training().run();
    s.impute();

    const Eigen::MatrixXf& obs = sim.observed.counts;
    const Eigen::MatrixXf& tru = sim.truth.counts;
    const auto drops = static_cast<std::size_t>(((obs.array() == 0) && (tru.array() > 0)).count());
    const auto zeros = static_cast<std::size_t>(((obs.array() == 0) && (tru.array() == 0)).count());
    REQUIRE(drops > 100);

    const PlotData all = plot_data(s, 1000000);  // every point
    CHECK(all.dropout_truth.size() == drops);
    CHECK(all.pi_true_zero.size() == zeros);
    CHECK(all.dropout_imputed.size() == drops);
    CHECK(all.pi_dropout.size() == drops);
    for (float v : all.dropout_truth) CHECK(v > 0);  // log1p of a true count > 0
    for (float v : all.pi_dropout) CHECK((v >= 0 && v <= 1));

    const PlotData few = plot_data(s, 40);
    CHECK(few.dropout_truth.size() <= 2 * 40);
    CHECK(few.dropout_truth.size() >= 40);
    CHECK(few.dropout_truth[0] == all.dropout_truth[0]);  // the first of every step-th

    CHECK(few.heat_genes == 30);
    CHECK(few.heat_cells == 40);
    CHECK(few.heat_observed.size() == 30u * 40u);
    CHECK(few.heat_truth.size() == few.heat_observed.size());
    // The heatmap's first gene has the most true dropouts of all genes (over every cell).
    int most = 0;
    for (Eigen::Index g = 0; g < obs.rows(); ++g)
        most = std::max(most, static_cast<int>(((obs.row(g).array() == 0) && (tru.row(g).array() > 0)).count()));
    int first = -1;
    for (Eigen::Index g = 0; g < obs.rows() && first < 0; ++g)
        if (((obs.row(g).array() == 0) && (tru.row(g).array() > 0)).count() == most) first = static_cast<int>(g);
    CHECK(few.heat_truth[0] == doctest::Approx(std::log1p(tru(first, 0))));
}
