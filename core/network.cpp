#include "network.hpp"

#include <limits>
#include <stdexcept>

#include "rng.hpp"
#include "zinb_kernel.hpp"

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

NetworkSizes network_sizes(Eigen::Index n_genes, const NetworkOptions& o) {
    NetworkSizes s;
    Eigen::Index in = n_genes;
    for (int w : o.hidden) {
        s.params += w * in + w + (o.batchnorm ? 2 * w : 0);
        s.stats += o.batchnorm ? w : 0;
        in = w;
    }
    const Eigen::Index heads = n_genes * (1 + (o.zero_inflated ? 1 : 0) + (o.dispersion == Dispersion::cell_gene ? 1 : 0));
    s.params += heads * in + heads + (o.dispersion == Dispersion::gene ? n_genes : 0);
    return s;
}

template <typename T>
Network<T>::Network(Eigen::Index n_genes, NetworkOptions options, std::uint64_t seed, Eigen::Index max_batch)
    : options_(std::move(options)), bounds_(head_bounds<T>(options_.clip_heads)), genes_(n_genes), max_batch_(max_batch) {
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
    set_pool(nullptr, 1);
    cell_loss_.resize(static_cast<std::size_t>(max_batch));
    cell_used_.resize(static_cast<std::size_t>(max_batch));
    for (Vec<T>* v : {&gene_theta_, &gene_cap_, &gene_scale_, &gene_lg_, &gene_dg_, &gene_log_te_, &gene_slope_})
        *v = Vec<T>::Zero(n_genes);
    pre_ = Mat<T>::Zero(3 * n_genes, max_batch);
    out_ = Mat<T>::Zero(3 * n_genes, max_batch);
    dpre_ = Mat<T>::Zero(3 * n_genes, max_batch);
    da_ = Mat<T>::Zero(widest, max_batch);
    db_ = Mat<T>::Zero(widest, max_batch);
}

// theta = softplus(p) or exp(p), clamped. Always inlined with `soft` a constant, so the loops
// calling it vectorize. Checked = false (bounded heads only): the unchecked exp gives ~2.4e38
// and ~1.2e-38 where exp gives inf and 0, which the clamp maps to the same bounds.
template <bool Checked, typename T>
ZIMPUTE_ALWAYS_INLINE T theta_activation(T p, bool soft, const HeadBounds<T>& hb) {
    const T th_lo = hb.th_lo, th_hi = hb.th_hi;
    T sp;
    if (soft) {
        sp = p > T(20) ? p : flog1p<Checked>(fexp<Checked>(p));  // softplus
    } else {
        sp = fexp<Checked>(p);
    }
    // Clamps written as selects: a NaN stays NaN (so divergence is seen) and the loops vectorize.
    return sp < th_lo ? th_lo : (sp > th_hi ? th_hi : sp);
}

template <typename T>
void Network<T>::set_pool(ThreadPool* pool, int threads) {
    pool_ = pool;
    threads = pool ? std::max(1, std::min(threads, pool->size())) : 1;
    threads_ = threads;
    element_loss_ = Mat<T>::Zero(genes_, threads);
    packed_.resize(static_cast<std::size_t>(threads));
    for (auto& p : packed_) p.resize(genes_);
}

template <typename T>
template <typename F>
void Network<T>::parallel(Eigen::Index n, Eigen::Index align, F&& f) {
    if (!pool_ || threads_ == 1 || n < 2 * align) {
        f(0, Eigen::Index(0), n);
        return;
    }
    const int parts = threads_;
    pool_->run([&](int t) {
        const auto r = split_range(n, parts, t, align);
        if (r.first < r.second) f(t, r.first, r.second - r.first);
    }, parts);
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
        if (k == 0) {
            // The input layer (G inputs) is most of the encoder's work. Its output rows are split
            // across threads, not its cells: Eigen packs a product's left operand per call, so a
            // split by cells packed the whole weight matrix on every thread.
            parallel(l.out, 8, [&](int, Eigen::Index r0, Eigen::Index n) {
                auto zt = z.middleRows(r0, n);
                mat_mul<T>(weight(params, l).middleRows(r0, n), x, zt);
                zt.colwise() += bias.segment(r0, n);
            });
        } else {
            dense_forward<T>(weight(params, l), bias, hidden_[k - 1].a.leftCols(b), z);
        }
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

    // Heads: pre = W_h a_last + b_h, rows [mu; pi?; theta?] (head_rows x b), then activations;
    // genes split across threads (each thread its genes' rows of every head).
    if (theta_param_ >= 0) {
        // One theta per gene: activate once, not once per cell.
        const bool soft = options_.theta_activation == ThetaActivation::softplus;
        for (Eigen::Index i = 0; i < genes_; ++i) gene_theta_(i) = theta_activation<true>(params(theta_param_ + i), soft, bounds_);
        out_.block(theta_row_, 0, genes_, b).colwise() = gene_theta_;
    }
    const auto a_last = hidden_.back().a.leftCols(b);
    parallel(genes_, 8, [&](int, Eigen::Index g0, Eigen::Index n) {
        for (Eigen::Index r0 = g0; r0 < head_rows_; r0 += genes_) {
            auto pre = pre_.block(r0, 0, n, b);
            mat_mul<T>(weight(params, head_layout_).middleRows(r0, n), a_last, pre);
            pre.colwise() += slice(params, head_layout_.b, head_rows_).segment(r0, n);
        }
        activate_heads(sf_ptr, b, g0, g0 + n);
    });
}

template <typename T>
void Network<T>::activate_heads(const T* sf_ptr, Eigen::Index b, Eigen::Index g0, Eigen::Index g1) {
    // Bounded heads map exp's special values to the bounds either way: the unchecked forms give
    // the same activations, without the selects (fast_math.hpp).
    if (options_.clip_heads) activate_heads_as<false>(sf_ptr, b, g0, g1);
    else activate_heads_as<true>(sf_ptr, b, g0, g1);
}

template <typename T>
template <bool Checked>
void Network<T>::activate_heads_as(const T* sf_ptr, Eigen::Index b, Eigen::Index g0, Eigen::Index g1) {
    const HeadBounds<T> hb = bounds_;
    const T mu_lo = hb.mu_lo, mu_hi = hb.mu_hi;
    for (Eigen::Index j = 0; j < b; ++j) {
        const T s = options_.size_factor_mean ? sf_ptr[j] : T(1);
        const T* pm = &pre_(0, j);
        T* om = &out_(0, j);
        for (Eigen::Index i = g0; i < g1; ++i) {
            const T e = fexp<Checked>(pm[i]);
            om[i] = s * (e < mu_lo ? mu_lo : (e > mu_hi ? mu_hi : e));
        }
        if (theta_param_ < 0) {
            const T* pt = &pre_(theta_row_, j);
            T* ot = &out_(theta_row_, j);
            if (options_.theta_activation == ThetaActivation::softplus)
                for (Eigen::Index i = g0; i < g1; ++i) ot[i] = theta_activation<Checked>(pt[i], true, hb);
            else
                for (Eigen::Index i = g0; i < g1; ++i) ot[i] = theta_activation<Checked>(pt[i], false, hb);
        }
        if (options_.zero_inflated) {
            const T* pp = &pre_(pi_row_, j);
            T* op = &out_(pi_row_, j);
            // pi in [0, 1] either way: the unchecked exp's finite extremes give pi ~4e-39, not 0
            for (Eigen::Index i = g0; i < g1; ++i) op[i] = T(1) / (T(1) + fexp<false>(-pp[i]));
        }
    }
}

template <typename T>
double Network<T>::loss_and_head_gradient(const T* y_ptr, const T* lgy1_ptr, Eigen::Index b, const LossOptions& loss,
                                          Eigen::Index* used) {
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    const bool zi = options_.zero_inflated && loss.kind != LossKind::nb;
    const bool guarded = loss.kind == LossKind::zinb_guarded, per_gene = theta_param_ >= 0;
    if (per_gene) {
        const T th_lo = bounds_.th_lo, th_hi = bounds_.th_hi;
        for (Eigen::Index i = 0; i < genes_; ++i) {
            const ThetaTerms<T> t = theta_terms(gene_theta_(i));
            gene_cap_(i) = t.theta;
            gene_scale_(i) = t.scale;
            gene_lg_(i) = t.lg;
            gene_dg_(i) = t.dg;
            gene_log_te_(i) = t.log_te;
            const T th = gene_theta_(i), p = params(theta_param_ + i);
            gene_slope_(i) = (th <= th_lo || th >= th_hi) ? T(0) : (soft ? sigmoid(p) : th);
        }
    }
    const auto checked = per_gene ? kernel::pick<T, true>(zi, soft) : kernel::pick<T, false>(zi, soft);
    // The unchecked kernel (fast_math.hpp's log and exp without special values) where it is
    // proven safe: bounded heads and a cell whose mu, pi and theta are all finite (then every
    // log argument in the loss is a positive normal float). Anything else, e.g. a diverging
    // network's NaN, takes the checked kernel, so NaN and infinity still reach the guard.
    const auto lean = per_gene ? kernel::pick<T, true>(zi, soft, false) : kernel::pick<T, false>(zi, soft, false);
    const bool may_lean = options_.clip_heads && (!per_gene || all_finite(gene_theta_.data(), genes_));
    const kernel::GeneTerms<T> terms{gene_cap_.data(), gene_scale_.data(), gene_lg_.data(), gene_dg_.data(), gene_log_te_.data(),
                             gene_slope_.data(), bounds_};
    // Cells split across threads; each thread has its own scratch. Per-cell sums are added up
    // afterwards in cell order, so the total does not depend on the split.
    parallel(b, 1, [&](int t, Eigen::Index c0, Eigen::Index n) {
        for (Eigen::Index j = c0; j < c0 + n; ++j) {
            const kernel::Column<T> c{y_ptr + j * genes_, lgy1_ptr + j * genes_, &out_(0, j), &out_(pi_row_, j),
                                      &out_(theta_row_, j), &pre_(0, j), &pre_(theta_row_, j), &dpre_(0, j),
                                      &dpre_(pi_row_, j), &dpre_(theta_row_, j), element_loss_.col(t).data()};
            const auto kernel = may_lean && all_finite(&out_(0, j), 3 * genes_) ? lean : checked;
            const double sum = kernel(c, terms, genes_, T(loss.ridge), packed_[static_cast<std::size_t>(t)]);
            Eigen::Index used_here = 0;
            cell_loss_[static_cast<std::size_t>(j)] = guarded ? kernel::guard_column(c, genes_, zi, used_here) : sum;
            cell_used_[static_cast<std::size_t>(j)] = guarded ? used_here : genes_;
        }
    });
    double total = 0;
    Eigen::Index count = 0;
    for (Eigen::Index j = 0; j < b; ++j) {
        total += cell_loss_[static_cast<std::size_t>(j)];
        count += cell_used_[static_cast<std::size_t>(j)];
    }
    if (used) *used = count;
    if (count == 0 || !std::isfinite(total)) return std::nan("");
    dpre_.topLeftCorner(3 * genes_, b) *= T(1) / T(count);
    return total / static_cast<double>(count);
}

template <typename T>
void Network<T>::backward(Eigen::Index b) {
    // Every gradient entry is assigned below (no accumulation), so grads is not cleared first:
    // clearing it was a 1 MB write per batch in an epoch bound by memory traffic. The
    // whole-network gradient checks would see any entry left stale.
    // Head: d pre (head_rows x b) -> dW_h = d pre a_last^T, db_h, d a_last = W_h^T d pre.
    // One parallel region: dW_h and db_h split by rows (genes), d a_last by its rows (units).
    const auto dpre = dpre_.block(0, 0, head_rows_, b);
    const auto a_last = hidden_.back().a.leftCols(b);
    Mat<T>* dcur = &da_;
    Mat<T>* dnext = &db_;
    const Eigen::Index last_w = layout_.back().out;
    auto d_last = dcur->topLeftCorner(last_w, b);
    auto head_part = [&](int t, int parts) {
        const auto rows = split_range(head_rows_, parts, t, 8);
        if (rows.first < rows.second) {
            const Eigen::Index n = rows.second - rows.first;
            auto dW = weight(grads, head_layout_).middleRows(rows.first, n);
            mat_mul_nt<T>(dpre.middleRows(rows.first, n), a_last, dW);
            slice(grads, head_layout_.b, head_rows_).segment(rows.first, n) = dpre.middleRows(rows.first, n).rowwise().sum();
        }
        const auto out = split_range(last_w, parts, t, 8);
        if (out.first < out.second) {
            const Eigen::Index n = out.second - out.first;
            auto d = d_last.middleRows(out.first, n);
            mat_mul_tn<T>(weight(params, head_layout_).middleCols(out.first, n), dpre, d);
        }
    };
    if (pool_ && threads_ > 1) pool_->run([&](int t) { head_part(t, threads_); }, threads_);
    else head_part(0, 1);
    if (theta_param_ >= 0) grads.segment(theta_param_, genes_) = dpre_.block(theta_row_, 0, genes_, b).rowwise().sum();

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
            // dW (o x G) = d x^T: the input layer's columns (genes) split across threads.
            const ConstMatMap<T> x(last_x_, genes_, b);
            parallel(genes_, 4, [&](int, Eigen::Index g0, Eigen::Index n) {
                auto dWt = dW.middleCols(g0, n);
                mat_mul_nt<T>(d, x.middleRows(g0, n), dWt);
            });
            dbias.noalias() = d.rowwise().sum();
        } else {
            dense_backward<T>(hidden_[k - 1].a.leftCols(b), d, dW, dbias);
            auto d_in = dnext->topLeftCorner(l.in, b);
            mat_mul_tn<T>(weight(params, l), d, d_in);
            std::swap(dcur, dnext);
        }
    }
}

template <typename T>
void Network<T>::recalibrate_batchnorm(Eigen::Index n, const std::function<const T*(Eigen::Index, Eigen::Index)>& chunk) {
    if (!options_.batchnorm || n < 1) return;
    const T eps = T(options_.bn_eps);
    // Layer by layer over all n cells at once, each layer's output kept for every cell (width x
    // n, two buffers reused across epochs): the input layer's product, most of the cost, is
    // computed once per recalibration instead of once per BN layer.
    Mat<T>* cur = &recal_a_;
    Mat<T>* next = &recal_b_;
    for (std::size_t k = 0; k < layout_.size(); ++k) {
        const DenseOffsets& l = layout_[k];
        if (next->rows() != l.out || next->cols() != n) next->resize(l.out, n);
        const VecMap<T> bias = slice(params, l.b, l.out);
        if (k == 0) {
            for (Eigen::Index start = 0; start < n; start += max_batch_) {
                const Eigen::Index b = std::min(max_batch_, n - start);
                const ConstMatMap<T> x(chunk(start, b), genes_, b);
                parallel(l.out, 8, [&](int, Eigen::Index r0, Eigen::Index m) {
                    auto z = next->block(r0, start, m, b);
                    mat_mul<T>(weight(params, l).middleRows(r0, m), x, z);
                    z.colwise() += bias.segment(r0, m);
                });
            }
        } else {
            parallel(n, 4, [&](int, Eigen::Index c0, Eigen::Index m) {
                auto z = next->middleCols(c0, m);
                dense_forward<T>(weight(params, l), bias, cur->middleCols(c0, m), z);
            });
        }
        std::swap(cur, next);
        auto z = cur->leftCols(n);
        const Eigen::VectorXd mean = z.rowwise().sum().template cast<double>() / static_cast<double>(n);
        const Eigen::VectorXd sumsq = z.array().square().rowwise().sum().matrix().template cast<double>();
        const Eigen::VectorXd var = (sumsq / static_cast<double>(n) - mean.cwiseAbs2()).cwiseMax(0.0);
        running_mean.segment(l.stats, l.out) = mean.cast<T>();
        running_var.segment(l.stats, l.out) = var.cast<T>();
        if (k + 1 == layout_.size()) break;
        // The next layer's input: this layer in inference mode under the statistics just set.
        batchnorm_forward_infer<T>(z, running_mean.segment(l.stats, l.out), running_var.segment(l.stats, l.out), eps);
        z = (slice(params, l.gamma, l.out).asDiagonal() * z).colwise() + slice(params, l.beta, l.out);
        relu_forward(z);
    }
}

template class Network<float>;
template class Network<double>;

}  // namespace zimpute
