// Where each trainable parameter and BatchNorm statistic sits in the network's flat buffers
// (Network::params and grads, running_mean and running_var), computed once from the gene count
// and the options. The network, the model file reader (which checks a file's header against
// `params` and `stats` before allocating anything) and the tests all use this one type.
//
// Order in `params`: per hidden layer W (out x in, column-major), b, then gamma and beta with
// BatchNorm; then the heads' Dense layer W (head_rows x in), b; then, with one theta per gene,
// the genes' theta parameters. Statistics: per hidden layer `out` entries, with BatchNorm only.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "network_options.hpp"

namespace zimpute {

/// One Dense layer's place in the flat buffers: W is out x in at w, the bias out long at b.
/// gamma, beta (in params) and stats (in the statistics) are -1 without BatchNorm.
struct DenseOffsets {
    Eigen::Index in = 0, out = 0, w = 0, b = 0, gamma = -1, beta = -1, stats = -1;
};

struct ParamLayout {
    /// Throws std::invalid_argument for no genes, no hidden layer or a width below 1.
    ParamLayout(Eigen::Index n_genes, const NetworkOptions& options);

    Eigen::Index genes = 0;
    std::vector<DenseOffsets> hidden;  ///< the hidden layers, input side first
    DenseOffsets head;                 ///< the heads' Dense layer, rows [mu; pi?; theta?]
    Eigen::Index head_rows = 0;        ///< rows the heads' Dense layer produces: genes per head
    /// First row of pi and theta in the heads' outputs (3 x genes rows, whatever the heads):
    /// without zero inflation pi points at rows kept at zero, with one theta per gene theta's
    /// rows are filled from the per-gene values.
    Eigen::Index pi_row = 0, theta_row = 0;
    Eigen::Index theta_param = -1;  ///< the per-gene thetas in params; -1 for cell-gene dispersion
    Eigen::Index params = 0;        ///< length of params and grads
    Eigen::Index stats = 0;         ///< length of running_mean and running_var
};

}  // namespace zimpute
