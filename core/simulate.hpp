// A Splatter-model simulator (Zappia, Phipson & Oshlack 2017) for data with known truth:
// gene means, outlier genes, library sizes, groups with differential expression, biological
// coefficient of variation, Gamma-Poisson true counts, then logistic dropout on the log mean.
#pragma once

#include <cstdint>
#include <vector>

#include "count_matrix.hpp"

namespace zimpute {

struct SimulateOptions {
    int genes = 1000;
    int cells = 600;
    int groups = 3;                 ///< equally likely cell groups
    std::uint64_t seed = 1;
    double mean_shape = 0.6, mean_rate = 0.3;          ///< gene means ~ Gamma(shape, rate)
    double outlier_prob = 0.05, outlier_loc = 4, outlier_scale = 0.5;
    double lib_loc = 11, lib_scale = 0.2;             ///< library sizes ~ LogNormal(loc, scale)
    double de_prob = 0.1, de_down_prob = 0.5, de_loc = 0.1, de_scale = 0.4;
    double bcv_common = 0.1, bcv_df = 60;
    double dropout_shape = -1;      ///< logistic slope on log mean
    double zero_fraction = 0.6;     ///< target share of zeros in the observed matrix; < 0: use midpoint
    double dropout_midpoint = 0;    ///< used when zero_fraction < 0
    bool keep_parameters = false;   ///< also return each entry's true mean and dropout probability
};

struct Simulation {
    CountMatrix observed;  ///< header Cell1.., no gene column (the course's format)
    CountMatrix truth;     ///< the same before dropout
    std::vector<int> group;  ///< group of each cell, 0-based
    double midpoint = 0;     ///< logistic midpoint used
    /// With keep_parameters (else empty), genes x cells: the Poisson rate each true count was
    /// drawn from (the true mean after BCV) and the probability that the entry dropped out,
    /// logistic(log mean; dropout_shape, midpoint). P(observed 0) = exp(-mean) + (1 - exp(-mean))
    /// * dropout; given both, a perfect model imputes an observed zero as dropout * mean /
    /// P(observed 0).
    Eigen::MatrixXf mean, dropout;
    /// With keep_parameters: the cell mean before the BCV draw (gene mean x group DE, scaled to
    /// the library size) and the shape 1 / bcv^2 of the Gamma the rate was drawn from
    /// (mean ~ Gamma(shape, rate shape / base_mean)).
    Eigen::MatrixXf base_mean, bcv_shape;
};

Simulation simulate(const SimulateOptions& options);

}  // namespace zimpute
