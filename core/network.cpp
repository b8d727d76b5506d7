#include "network.hpp"

#include <stdexcept>

#include "rng.hpp"

namespace zimpute {

ThetaActivation parse_theta_activation(const std::string& s) {
    if (s == "softplus") return ThetaActivation::softplus;
    if (s == "exp") return ThetaActivation::exp;
    throw std::invalid_argument("theta activation must be softplus or exp, not '" + s + "'");
}

Dispersion parse_dispersion(const std::string& s) {
    if (s == "cell-gene") return Dispersion::cell_gene;
    if (s == "gene") return Dispersion::gene;
    throw std::invalid_argument("dispersion must be cell-gene or gene, not '" + s + "'");
}

template <typename T>
Network<T>::Network(Eigen::Index n_genes, NetworkOptions options, std::uint64_t seed, Eigen::Index max_batch)
    : options_(std::move(options)), genes_(n_genes), max_batch_(max_batch) {
    if (n_genes < 1 || max_batch < 1) throw std::invalid_argument("network needs at least one gene and one cell");
    if (options_.hidden.empty()) throw std::invalid_argument("network needs at least one hidden layer");
    for (int w : options_.hidden)
        if (w < 1) throw std::invalid_argument("hidden layer widths must be positive");
    latent_ = static_cast<Eigen::Index>(options_.hidden.size() / 2);

    // Offsets: per hidden layer W, b, [gamma, beta]; then the head W, b; then per-gene theta.
    Eigen::Index off = 0, stats = 0, in = n_genes;
    for (int w : options_.hidden) {
        DenseOffsets l{in, w, off, off + w * in, -1, -1, -1};
        off += w * in + w;
        if (options_.batchnorm) {
            l.gamma = off;
            l.beta = off + w;
            l.stats = stats;
            off += 2 * w;
            stats += w;
        }
        layout_.push_back(l);
        in = w;
    }
    const bool zi = options_.zero_inflated, cond = options_.dispersion == Dispersion::cell_gene;
    head_rows_ = n_genes * (1 + (zi ? 1 : 0) + (cond ? 1 : 0));
    pi_row_ = zi ? n_genes : 2 * n_genes;  // without zero inflation pi points at rows kept at zero
    theta_row_ = zi ? 2 * n_genes : n_genes;
    head_layout_ = DenseOffsets{in, head_rows_, off, off + head_rows_ * in, -1, -1, -1};
    off += head_rows_ * in + head_rows_;
    if (!cond) {
        theta_param_ = off;
        off += n_genes;
    }

    params = Vec<T>::Zero(off);
    grads = Vec<T>::Zero(off);
    running_mean = Vec<T>::Zero(stats);
    running_var = Vec<T>::Ones(stats);

    // Glorot-uniform weights, zero biases, BN gamma = 1 and beta = 0 (Keras defaults).
    Rng rng(seed);
    auto glorot = [&](const DenseOffsets& l) {
        const double limit = std::sqrt(6.0 / static_cast<double>(l.in + l.out));
        for (Eigen::Index k = 0; k < l.in * l.out; ++k) params(l.w + k) = T((2.0 * rng.uniform() - 1.0) * limit);
    };
    for (const auto& l : layout_) {
        glorot(l);
        if (l.gamma >= 0) params.segment(l.gamma, l.out).setOnes();
    }
    glorot(head_layout_);

    for (const auto& l : layout_) {
        Hidden h;
        h.zhat = Mat<T>::Zero(l.out, max_batch);
        h.a = Mat<T>::Zero(l.out, max_batch);
        h.mean = Vec<T>::Zero(l.out);
        h.invstd = Vec<T>::Ones(l.out);
        hidden_.push_back(std::move(h));
    }
    Eigen::Index widest = 0;
    for (int w : options_.hidden) widest = std::max<Eigen::Index>(widest, w);
    gene_theta_ = Vec<T>::Zero(n_genes);
    gene_slope_ = Vec<T>::Zero(n_genes);
    gene_terms_.resize(static_cast<std::size_t>(n_genes));
    pre_ = Mat<T>::Zero(3 * n_genes, max_batch);
    out_ = Mat<T>::Zero(3 * n_genes, max_batch);
    dpre_ = Mat<T>::Zero(3 * n_genes, max_batch);
    da_ = Mat<T>::Zero(widest, max_batch);
    db_ = Mat<T>::Zero(widest, max_batch);
}

template <typename T>
void Network<T>::forward(const T* x_ptr, const T* sf_ptr, Eigen::Index b, bool training) {
    if (b > max_batch_ || b < 1) throw std::invalid_argument("batch size out of range");
    const ConstMatMap<T> x(x_ptr, genes_, b);  // G x b
    last_x_ = x_ptr;
    const T eps = T(options_.bn_eps), m = T(options_.bn_momentum);

    for (std::size_t k = 0; k < layout_.size(); ++k) {
        const DenseOffsets& l = layout_[k];
        Hidden& h = hidden_[k];
        auto z = h.zhat.leftCols(b);  // o x b
        auto a = h.a.leftCols(b);     // o x b
        const VecMap<T> bias = slice(params, l.b, l.out);
        if (k == 0) dense_forward<T>(weight(params, l), bias, x, z);
        else dense_forward<T>(weight(params, l), bias, hidden_[k - 1].a.leftCols(b), z);
        if (options_.batchnorm) {
            auto rm = running_mean.segment(l.stats, l.out);
            auto rv = running_var.segment(l.stats, l.out);
            if (training) {
                batchnorm_forward_train<T>(z, h.mean, h.invstd, eps);
                rm = m * rm + (T(1) - m) * h.mean;
                rv = m * rv + (T(1) - m) * (h.invstd.array().square().inverse() - eps).matrix();
            } else {
                batchnorm_forward_infer<T>(z, rm, rv, eps);
            }
            batchnorm_affine<T>(slice(params, l.gamma, l.out), slice(params, l.beta, l.out), z, a);
        } else {
            a = z;
        }
        relu_forward(a);
    }

    // Heads: pre = W_h a_last + b_h, rows [mu; pi?; theta?] (head_rows x b)
    auto pre = pre_.block(0, 0, head_rows_, b);
    dense_forward<T>(weight(params, head_layout_), slice(params, head_layout_.b, head_rows_),
                     hidden_.back().a.leftCols(b), pre);

    const T mu_lo = T(kMuMin), mu_hi = T(kMuMax), th_lo = T(kThetaMin), th_hi = T(kThetaHeadMax);
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    auto theta_act = [&](T p) { return std::min(std::max(soft ? softplus(p) : std::exp(p), th_lo), th_hi); };
    if (theta_param_ >= 0) {
        // One theta per gene: activate once, not once per cell.
        for (Eigen::Index i = 0; i < genes_; ++i) gene_theta_(i) = theta_act(params(theta_param_ + i));
        out_.block(theta_row_, 0, genes_, b).colwise() = gene_theta_;
    }
    for (Eigen::Index j = 0; j < b; ++j) {
        const T s = options_.size_factor_mean ? sf_ptr[j] : T(1);
        for (Eigen::Index i = 0; i < genes_; ++i) out_(i, j) = s * std::min(std::max(std::exp(pre_(i, j)), mu_lo), mu_hi);
        if (theta_param_ < 0)
            for (Eigen::Index i = 0; i < genes_; ++i) out_(theta_row_ + i, j) = theta_act(pre_(theta_row_ + i, j));
        if (options_.zero_inflated)
            for (Eigen::Index i = 0; i < genes_; ++i) out_(pi_row_ + i, j) = sigmoid(pre_(pi_row_ + i, j));
    }
}

template <typename T>
double Network<T>::loss_and_head_gradient(const T* y_ptr, const T* lgy1_ptr, Eigen::Index b, const LossOptions& loss,
                                          Eigen::Index* used) {
    // One fused pass: element loss, its gradient w.r.t. pi/mu/theta, and the chain rule through
    // each head's activation (zero where the activation is clipped).
    const T log_mu_lo = T(std::log(kMuMin)), log_mu_hi = T(std::log(kMuMax));
    const T th_lo = T(kThetaMin), th_hi = T(kThetaHeadMax);
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    const bool zi = options_.zero_inflated, guarded = loss.kind == LossKind::zinb_guarded;
    const bool per_gene = theta_param_ >= 0;
    const LossKind kind = zi ? loss.kind : LossKind::nb;
    const T ridge = T(loss.ridge);
    // d theta / d pre-activation: sigmoid(p) for softplus, theta for exp, 0 where clipped.
    auto theta_slope = [&](T th, T p) { return (th <= th_lo || th >= th_hi) ? T(0) : (soft ? sigmoid(p) : th); };
    if (per_gene)
        for (Eigen::Index i = 0; i < genes_; ++i) {
            gene_terms_[static_cast<std::size_t>(i)] = theta_terms(gene_theta_(i));
            gene_slope_(i) = theta_slope(gene_theta_(i), params(theta_param_ + i));
        }
    double total = 0;
    Eigen::Index count = 0;
    for (Eigen::Index j = 0; j < b; ++j) {
        const T* y = y_ptr + j * genes_;
        const T* lg = lgy1_ptr + j * genes_;
        for (Eigen::Index i = 0; i < genes_; ++i) {
            const T mu = out_(i, j), th = out_(theta_row_ + i, j), pi = zi ? out_(pi_row_ + i, j) : T(0);
            ThetaTerms<T> tt;
            if (per_gene) {
                tt = gene_terms_[static_cast<std::size_t>(i)];
            } else if (kind == LossKind::nb || y[i] >= T(1e-8)) {
                tt = theta_terms(th);
            } else {  // the zero case reads only theta and the cap's scale: skip lgamma
                tt.scale = th > T(kThetaMax) ? T(0) : T(1);
                tt.theta = th > T(kThetaMax) ? T(kThetaMax) : th;
            }
            T dpi, dmu, dth;
            const T l = zinb_element<T>(y[i], pi, mu, tt, lg[i], kind, ridge, dpi, dmu, dth);
            const T pm = pre_(i, j);
            T gm = (pm < log_mu_lo || pm > log_mu_hi) ? T(0) : dmu * mu;
            T gt = dth * (per_gene ? gene_slope_(i) : theta_slope(th, pre_(theta_row_ + i, j)));
            T gp = zi ? dpi * pi * (T(1) - pi) : T(0);
            if (guarded && !(std::isfinite(l) && std::isfinite(gm) && std::isfinite(gt) && std::isfinite(gp))) {
                gm = gt = gp = T(0);
            } else {
                total += static_cast<double>(l);
                ++count;
            }
            dpre_(i, j) = gm;
            dpre_(theta_row_ + i, j) = gt;
            if (zi) dpre_(pi_row_ + i, j) = gp;
        }
    }
    if (used) *used = count;
    if (count == 0) return std::nan("");
    dpre_.topLeftCorner(3 * genes_, b) *= T(1) / T(count);
    return total / static_cast<double>(count);
}

template <typename T>
void Network<T>::backward(Eigen::Index b) {
    grads.setZero();
    // Head: d pre (head_rows x b) -> dW_h, db_h, d a_last = W_h^T d pre
    const auto dpre = dpre_.block(0, 0, head_rows_, b);
    auto dWh = weight(grads, head_layout_);
    auto dbh = slice(grads, head_layout_.b, head_rows_);
    dense_backward<T>(hidden_.back().a.leftCols(b), dpre, dWh, dbh);
    if (theta_param_ >= 0) grads.segment(theta_param_, genes_) = dpre_.block(theta_row_, 0, genes_, b).rowwise().sum();

    Mat<T>* dcur = &da_;
    Mat<T>* dnext = &db_;
    const Eigen::Index last_w = layout_.back().out;
    dcur->topLeftCorner(last_w, b).noalias() = weight(params, head_layout_).transpose() * dpre;

    for (std::size_t k = layout_.size(); k-- > 0;) {
        const DenseOffsets& l = layout_[k];
        Hidden& h = hidden_[k];
        auto d = dcur->topLeftCorner(l.out, b);  // dL/da (o x b), becomes dL/dz
        relu_backward(h.a.leftCols(b), d);
        if (options_.batchnorm) {
            auto dgamma = slice(grads, l.gamma, l.out);
            auto dbeta = slice(grads, l.beta, l.out);
            batchnorm_backward<T>(slice(params, l.gamma, l.out), h.zhat.leftCols(b), h.invstd, d, dgamma, dbeta);
        }
        auto dW = weight(grads, l);
        auto dbias = slice(grads, l.b, l.out);
        if (k == 0) {
            dense_backward<T>(ConstMatMap<T>(last_x_, genes_, b), d, dW, dbias);
        } else {
            dense_backward<T>(hidden_[k - 1].a.leftCols(b), d, dW, dbias);
            dnext->topLeftCorner(l.in, b).noalias() = weight(params, l).transpose() * d;
            std::swap(dcur, dnext);
        }
    }
}

template class Network<float>;
template class Network<double>;

}  // namespace zimpute
