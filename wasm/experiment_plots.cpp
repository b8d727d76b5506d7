#include "experiment_plots.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace zimpute {

namespace {

// The scatter and histogram samples: every step-th true dropout and true zero.
void sample_zeros(PlotData& p, const Eigen::MatrixXf& obs, const Eigen::MatrixXf& imp, const Eigen::MatrixXf& pi,
                  const Eigen::MatrixXf& tru, std::size_t max_points) {
    std::size_t n_drop = 0, n_zero = 0;
    for (Eigen::Index k = 0; k < obs.size(); ++k)
        if (obs.data()[k] == 0) (tru.data()[k] > 0 ? n_drop : n_zero)++;
    const std::size_t step_drop = std::max<std::size_t>(1, n_drop / std::max<std::size_t>(max_points, 1));
    const std::size_t step_zero = std::max<std::size_t>(1, n_zero / std::max<std::size_t>(max_points, 1));
    std::size_t i_drop = 0, i_zero = 0;
    for (Eigen::Index k = 0; k < obs.size(); ++k) {
        if (obs.data()[k] != 0) continue;
        if (tru.data()[k] > 0) {
            if (i_drop++ % step_drop) continue;
            p.dropout_truth.push_back(std::log1p(tru.data()[k]));
            p.dropout_imputed.push_back(std::log1p(std::max(0.0f, imp.data()[k])));
            p.pi_dropout.push_back(pi.data()[k]);
        } else if (i_zero++ % step_zero == 0) {
            p.pi_true_zero.push_back(pi.data()[k]);
        }
    }
}

void heatmap(PlotData& p, const Eigen::MatrixXf& obs, const Eigen::MatrixXf& imp, const Eigen::MatrixXf& tru) {
    std::vector<std::pair<int, Eigen::Index>> drops;
    for (Eigen::Index g = 0; g < obs.rows(); ++g)
        drops.push_back({static_cast<int>(((obs.row(g).array() == 0) && (tru.row(g).array() > 0)).count()), g});
    std::stable_sort(drops.begin(), drops.end(), [](auto& a, auto& b) { return a.first > b.first; });
    p.heat_genes = static_cast<int>(std::min<std::size_t>(30, drops.size()));
    p.heat_cells = static_cast<int>(std::min<Eigen::Index>(40, obs.cols()));
    for (int c = 0; c < p.heat_cells; ++c)
        for (int g = 0; g < p.heat_genes; ++g) {
            const Eigen::Index r = drops[static_cast<std::size_t>(g)].second;
            p.heat_observed.push_back(std::log1p(obs(r, c)));
            p.heat_imputed.push_back(std::log1p(std::max(0.0f, imp(r, c))));
            p.heat_truth.push_back(std::log1p(tru(r, c)));
        }
}

}  // namespace

PlotData plot_data(Session& s, std::size_t max_points) {
    PlotData p;
    const Eigen::MatrixXf& obs = s.data().counts;
    const Eigen::MatrixXf& imp = s.imputed();
    const Eigen::MatrixXf& tru = s.truth();
    sample_zeros(p, obs, imp, s.predicted(Output::pi), tru, max_points);
    heatmap(p, obs, imp, tru);
    return p;
}

}  // namespace zimpute
