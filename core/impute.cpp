#include "impute.hpp"

#include <cmath>

namespace zimpute {

Prediction predict(Model& model, const Preprocessed& data, Eigen::Index n_genes, Eigen::Index n_cells) {
    Network<float>& net = *model.net;
    const auto& genes = model.prep.kept_genes;
    const Eigen::Index g = net.n_genes(), width = model.settings.network.hidden[model.settings.network.hidden.size() / 2];
    Prediction p;
    p.pi = Eigen::MatrixXf::Zero(n_genes, n_cells);
    p.mu = Eigen::MatrixXf::Zero(n_genes, n_cells);
    p.theta = Eigen::MatrixXf::Zero(n_genes, n_cells);
    p.latent = Eigen::MatrixXf::Zero(width, n_cells);
    const auto n = static_cast<Eigen::Index>(data.kept_cells.size());
    for (Eigen::Index start = 0; start < n; start += net.max_batch()) {
        const Eigen::Index b = std::min(net.max_batch(), n - start);
        // data.input is kept genes x kept cells, so a chunk of cells is a contiguous block.
        net.forward(data.input.data() + start * g, data.size_factors.data() + start, b, false);
        const auto mu = net.mu(b), pi = net.pi(b), theta = net.theta(b);
        for (Eigen::Index k = 0; k < b; ++k) {
            const Eigen::Index cell = data.kept_cells[static_cast<std::size_t>(start + k)];
            for (Eigen::Index i = 0; i < g; ++i) {
                const Eigen::Index gene = genes[static_cast<std::size_t>(i)];
                p.mu(gene, cell) = mu(i, k);
                p.pi(gene, cell) = pi(i, k);
                p.theta(gene, cell) = theta(i, k);
            }
            p.latent.col(cell) = net.latent(b).col(k);
        }
    }
    return p;
}

float dropout_posterior(float pi, float mu, float theta) {
    if (!(theta > 0)) return 0.0f;  // set-aside entries
    const double nb0 = std::exp(static_cast<double>(theta) * std::log(theta / (static_cast<double>(theta) + mu)));
    const double d = pi + (1.0 - pi) * nb0;
    return d > 0 ? static_cast<float>(pi / d) : 0.0f;
}

Eigen::MatrixXf impute(const Eigen::MatrixXf& observed, const Prediction& p, ImputeRule rule) {
    Eigen::MatrixXf out = observed;
    for (Eigen::Index j = 0; j < observed.cols(); ++j)
        for (Eigen::Index i = 0; i < observed.rows(); ++i) {
            if (!(p.theta(i, j) > 0)) continue;  // never seen by the model
            const float x = observed(i, j), mu = p.mu(i, j), pi = p.pi(i, j);
            switch (rule) {
                case ImputeRule::seed:
                    if (x == 0 && pi > 0.5f) out(i, j) = std::floor(mu);
                    break;
                case ImputeRule::mean: out(i, j) = mu; break;
                case ImputeRule::posterior:
                    if (x == 0) out(i, j) = dropout_posterior(pi, mu, p.theta(i, j)) * mu;
                    break;
            }
        }
    return out;
}

}  // namespace zimpute
