// What the page's experiment panel plots for the best model (web/plots.js draws it): samples of
// the validation part's imputation, its pi and its truth. Plain C++ (no Emscripten), bound by
// wasm/experiment_binding.cpp and unit-tested natively (tests/experiment_plots_test.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "../core/session.hpp"

namespace zimpute {

struct PlotData {
    std::vector<float> dropout_truth, dropout_imputed;  ///< log1p, on true dropouts (sampled)
    std::vector<float> pi_dropout, pi_true_zero;        ///< pi on true dropouts / on true zeros (sampled)
    int heat_genes = 0, heat_cells = 0;                 ///< a block of genes x cells, column-major
    std::vector<float> heat_observed, heat_imputed, heat_truth;  ///< log1p
};

/// Samples (evenly strided, at most max_points each) from a session with data, truth and a
/// result; the heatmap is the 30 genes with the most true dropouts over the first 40 cells.
/// Runs one inference pass (for pi).
PlotData plot_data(Session& s, std::size_t max_points);

}  // namespace zimpute
