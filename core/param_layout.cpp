#include "param_layout.hpp"

#include <stdexcept>

namespace zimpute {

ParamLayout::ParamLayout(Eigen::Index n_genes, const NetworkOptions& o) : genes(n_genes) {
    if (n_genes < 1) throw std::invalid_argument("network needs at least one gene");
    if (o.hidden.empty()) throw std::invalid_argument("network needs at least one hidden layer");
    for (int w : o.hidden)
        if (w < 1) throw std::invalid_argument("hidden layer widths must be positive");

    Eigen::Index in = n_genes;
    for (int w : o.hidden) {
        DenseOffsets l{in, w, params, params + w * in};
        params += w * in + w;
        if (o.batchnorm) {
            l.gamma = params;
            l.beta = params + w;
            l.stats = stats;
            params += 2 * w;
            stats += w;
        }
        hidden.push_back(l);
        in = w;
    }
    const bool zi = o.zero_inflated, cond = o.dispersion == Dispersion::cell_gene;
    head_rows = n_genes * (1 + (zi ? 1 : 0) + (cond ? 1 : 0));
    pi_row = zi ? n_genes : 2 * n_genes;
    theta_row = zi ? 2 * n_genes : n_genes;
    head = DenseOffsets{in, head_rows, params, params + head_rows * in};
    params += head_rows * in + head_rows;
    if (!cond) {
        theta_param = params;
        params += n_genes;
    }
}

}  // namespace zimpute
