#include "impute.hpp"

#include <cmath>

namespace zimpute {
namespace {

// Row of the output matrix for kept gene i of the model.
Eigen::Index out_row(const Model& model, const std::vector<Eigen::Index>* rows, Eigen::Index i) {
    const Eigen::Index g = model.prep.kept_genes[static_cast<std::size_t>(i)];
    return rows ? (*rows)[static_cast<std::size_t>(g)] : g;
}

}  // namespace

Output parse_output(const std::string& s) {
    if (s == "pi") return Output::pi;
    if (s == "mu") return Output::mu;
    if (s == "theta") return Output::theta;
    if (s == "latent") return Output::latent;
    throw std::invalid_argument("matrix must be pi, mu, theta or latent, not '" + s + "'");
}

void for_each_batch(Model& model, const Preprocessed& data, const std::function<void(Eigen::Index, Eigen::Index)>& visit) {
    Network<float>& net = *model.net;
    const Eigen::Index g = net.n_genes(), n = data.n_cells();
    Eigen::MatrixXf x(g, net.max_batch());  // one batch of inputs, rebuilt from the sparse counts
    for (Eigen::Index start = 0; start < n; start += net.max_batch()) {
        const Eigen::Index b = std::min(net.max_batch(), n - start);
        for (Eigen::Index k = 0; k < b; ++k) data.input_column(start + k, x.col(k).data());
        net.forward(x.data(), data.size_factors.data() + start, b, false);
        visit(start, b);
    }
}

Eigen::MatrixXf predict_output(Model& model, const Preprocessed& data, Output which, Eigen::Index n_genes,
                               Eigen::Index n_cells, const std::vector<Eigen::Index>* rows) {
    Network<float>& net = *model.net;
    const Eigen::Index width = model.settings.network.hidden[model.settings.network.hidden.size() / 2];
    Eigen::MatrixXf out = Eigen::MatrixXf::Zero(which == Output::latent ? width : n_genes, n_cells);
    for_each_batch(model, data, [&](Eigen::Index start, Eigen::Index b) {
        for (Eigen::Index k = 0; k < b; ++k) {
            const Eigen::Index cell = data.kept_cells[static_cast<std::size_t>(start + k)];
            if (which == Output::latent) {
                out.col(cell) = net.latent(b).col(k);
                continue;
            }
            const auto src = which == Output::pi ? net.pi(b).col(k) : which == Output::mu ? net.mu(b).col(k) : net.theta(b).col(k);
            for (Eigen::Index i = 0; i < net.n_genes(); ++i) out(out_row(model, rows, i), cell) = src(i);
        }
    });
    return out;
}

Prediction predict(Model& model, const Preprocessed& data, Eigen::Index n_genes, Eigen::Index n_cells,
                   const std::vector<Eigen::Index>* rows) {
    Prediction p;
    p.pi = predict_output(model, data, Output::pi, n_genes, n_cells, rows);
    p.mu = predict_output(model, data, Output::mu, n_genes, n_cells, rows);
    p.theta = predict_output(model, data, Output::theta, n_genes, n_cells, rows);
    p.latent = predict_output(model, data, Output::latent, n_genes, n_cells, rows);
    return p;
}

float dropout_posterior(float pi, float mu, float theta) {
    if (!(theta > 0)) return 0.0f;  // set-aside entries
    const double nb0 = std::exp(static_cast<double>(theta) * std::log(theta / (static_cast<double>(theta) + mu)));
    const double d = pi + (1.0 - pi) * nb0;
    return d > 0 ? static_cast<float>(pi / d) : 0.0f;
}

float impute_value(float x, float mu, float pi, float theta, ImputeRule rule) {
    if (!(theta > 0)) return x;  // never seen by the model
    switch (rule) {
        case ImputeRule::course: return x == 0 && pi > 0.5f ? std::floor(mu) : x;
        case ImputeRule::mean: return mu;
        case ImputeRule::posterior: return x == 0 ? dropout_posterior(pi, mu, theta) * mu : x;
    }
    return x;
}

Eigen::MatrixXf impute(const Eigen::MatrixXf& observed, const Prediction& p, ImputeRule rule) {
    Eigen::MatrixXf out = observed;
    for (Eigen::Index j = 0; j < observed.cols(); ++j)
        for (Eigen::Index i = 0; i < observed.rows(); ++i)
            out(i, j) = impute_value(observed(i, j), p.mu(i, j), p.pi(i, j), p.theta(i, j), rule);
    return out;
}

void impute_in_place(Model& model, const Preprocessed& data, Eigen::MatrixXf& observed, ImputeRule rule,
                     const std::vector<Eigen::Index>* rows) {
    Network<float>& net = *model.net;
    for_each_batch(model, data, [&](Eigen::Index start, Eigen::Index b) {
        const auto mu = net.mu(b), pi = net.pi(b), theta = net.theta(b);
        for (Eigen::Index k = 0; k < b; ++k) {
            const Eigen::Index cell = data.kept_cells[static_cast<std::size_t>(start + k)];
            for (Eigen::Index i = 0; i < net.n_genes(); ++i) {
                float& x = observed(out_row(model, rows, i), cell);
                x = impute_value(x, mu(i, k), pi(i, k), theta(i, k), rule);
            }
        }
    });
}

}  // namespace zimpute
