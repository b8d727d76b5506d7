#include "network.hpp"

#include <limits>
#include <stdexcept>

#include "rng.hpp"
#include "zinb_kernel.hpp"

namespace zimpute {

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
    sf_.assign(static_cast<std::size_t>(max_batch), T(1));
    cell_loss_.resize(static_cast<std::size_t>(max_batch));
    cell_used_.resize(static_cast<std::size_t>(max_batch));
    for (Vec<T>* v : {&gene_theta_, &gene_cap_, &gene_scale_, &gene_lg_, &gene_dg_, &gene_log_te_, &gene_slope_})
        *v = Vec<T>::Zero(n_genes);
    pre_ = Mat<T>::Zero(3 * n_genes, max_batch);
    out_ = Mat<T>::Zero(3 * n_genes, max_batch);
    dpre_ = Mat<T>::Zero(3 * n_genes, max_batch);
    input_const_ = Vec<T>::Zero(layout_[0].out);
    da_ = Mat<T>::Zero(widest, max_batch);
    db_ = Mat<T>::Zero(widest, max_batch);
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
void Network<T>::forward(const T* x, const T* sf, Eigen::Index b, bool training, bool activate) {
    if (b > max_batch_ || b < 1) throw std::invalid_argument("batch size out of range");
    std::copy(sf, sf + b, sf_.data());  // the loss kernel activates mu with them
    last_x_ = x;
    last_sparse_ = nullptr;
    forward_layers(b, training, activate);
}

template <typename T>
void Network<T>::forward(const SparseInput<T>& x, const T* sf, Eigen::Index b, bool training, bool activate) {
    if (b > max_batch_ || b < 1 || b > x.max_batch()) throw std::invalid_argument("batch size out of range");
    if (x.genes() != genes_) throw std::invalid_argument("sparse input has the wrong number of genes");
    std::copy(sf, sf + b, sf_.data());
    last_x_ = nullptr;
    last_sparse_ = &x;
    forward_layers(b, training, activate);
}

template <typename T>
void Network<T>::sparse_input_product(const SparseInput<T>& x, Eigen::Index b, T* z) {
    // z (o x b, columns o apart) = W x + bias = c + W deviations, with c = W zero + bias: the
    // constant part once for the batch (gather_axpy over all genes), then per cell its entries.
    const DenseOffsets& l = layout_[0];
    const T* w = params.data() + l.w;  // o x G
    gather_axpy_rows<T>(w, l.out, x.all_genes(), x.zero(), genes_, T(1), params.data() + l.b, input_const_.data(), l.out);
    // Cells split across threads: each cell's column comes out the same whatever the split.
    parallel(b, 1, [&](int, Eigen::Index c0, Eigen::Index n) {
        for (Eigen::Index k = c0; k < c0 + n; ++k) {
            const SparseEntries<T> e = x.cell(k);
            gather_axpy_rows<T>(w, l.out, e.index, e.value, e.n, T(1), input_const_.data(), z + k * l.out, l.out);
        }
    });
}

template <typename T>
void Network<T>::forward_layers(Eigen::Index b, bool training, bool activate) {
    const T eps = T(options_.bn_eps), m = T(options_.bn_momentum);

    for (std::size_t k = 0; k < layout_.size(); ++k) {
        const DenseOffsets& l = layout_[k];
        Hidden& h = hidden_[k];
        auto z = h.zhat.leftCols(b);  // o x b
        auto a = h.a.leftCols(b);     // o x b
        const VecMap<T> bias = slice(params, l.b, l.out);
        if (k == 0 && last_sparse_) {
            sparse_input_product(*last_sparse_, b, z.data());
        } else if (k == 0) {
            // The input layer (G inputs) is most of the encoder's work. Its output rows are split
            // across threads, not its cells: Eigen packs a product's left operand per call, so a
            // split by cells packed the whole weight matrix on every thread.
            const ConstMatMap<T> x(last_x_, genes_, b);  // G x b
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
        for (Eigen::Index i = 0; i < genes_; ++i) {
            const T p = params(theta_param_ + i);
            T slope;
            gene_theta_(i) = soft ? kernel::theta_activation<true, true>(p, bounds_, slope)
                                  : kernel::theta_activation<true, false>(p, bounds_, slope);
            gene_slope_(i) = slope;
        }
        out_.block(theta_row_, 0, genes_, b).colwise() = gene_theta_;
    }
    const auto a_last = hidden_.back().a.leftCols(b);
    parallel(genes_, 8, [&](int, Eigen::Index g0, Eigen::Index n) {
        for (Eigen::Index r0 = g0; r0 < head_rows_; r0 += genes_) {
            auto pre = pre_.block(r0, 0, n, b);
            mat_mul<T>(weight(params, head_layout_).middleRows(r0, n), a_last, pre);
            pre.colwise() += slice(params, head_layout_.b, head_rows_).segment(r0, n);
        }
        if (activate) activate_heads(b, g0, g0 + n);
    });
}

template <typename T>
void Network<T>::activate_heads(Eigen::Index b, Eigen::Index g0, Eigen::Index g1) {
    // The loss kernel's loops, always in their checked forms: this is the inference path
    // (imputation, tests), which has no proof that the pre-activations are finite.
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    const Eigen::Index n = g1 - g0;
    std::vector<T>& slope = packed_[0].slope_all;  // required by the theta loop, not used
    for (Eigen::Index j = 0; j < b; ++j) {
        const T s = options_.size_factor_mean ? sf_[static_cast<std::size_t>(j)] : T(1);
        kernel::activate_mu<true>(&pre_(g0, j), &out_(g0, j), n, s, bounds_);
        if (theta_param_ < 0) {
            if (soft) kernel::activate_theta<true, true>(&pre_(theta_row_ + g0, j), &out_(theta_row_ + g0, j), slope.data() + g0, n, bounds_);
            else kernel::activate_theta<true, false>(&pre_(theta_row_ + g0, j), &out_(theta_row_ + g0, j), slope.data() + g0, n, bounds_);
        }
        if (options_.zero_inflated) kernel::activate_pi<true>(&pre_(pi_row_ + g0, j), &out_(pi_row_ + g0, j), n);
    }
}

template <typename T>
double Network<T>::loss_and_head_gradient(const T* y_ptr, const T* lgy1_ptr, Eigen::Index b, const LossOptions& loss,
                                          Eigen::Index* used) {
    if (b > max_batch_ || b < 1) throw std::invalid_argument("batch size out of range");
    if (dense_counts_.genes() != genes_) dense_counts_.resize(genes_, max_batch_);
    for (Eigen::Index j = 0; j < b; ++j) dense_counts_.set_dense(j, y_ptr + j * genes_, lgy1_ptr + j * genes_);
    return loss_and_head_gradient(dense_counts_, b, loss, used);
}

template <typename T>
double Network<T>::loss_and_head_gradient(const kernel::CountBatch<T>& counts, Eigen::Index b, const LossOptions& loss,
                                          Eigen::Index* used) {
    if (b > max_batch_ || b < 1 || counts.genes() != genes_ || counts.max_batch() < b)
        throw std::invalid_argument("loss: counts do not match the batch");
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    const bool zi = options_.zero_inflated && loss.kind != LossKind::nb;
    const bool guarded = loss.kind == LossKind::zinb_guarded, per_gene = theta_param_ >= 0;
    if (per_gene) {
        for (Eigen::Index i = 0; i < genes_; ++i) {
            const ThetaTerms<T> t = theta_terms(gene_theta_(i));
            gene_cap_(i) = t.theta;
            gene_scale_(i) = t.scale;
            gene_lg_(i) = t.lg;
            gene_dg_(i) = t.dg;
            gene_log_te_(i) = t.log_te;
        }
    }
    const auto checked = per_gene ? kernel::pick<T, true>(zi, soft) : kernel::pick<T, false>(zi, soft);
    // The unchecked kernel (fast_math.hpp's log and exp without special values) where it is
    // proven safe: bounded heads and a cell whose pre-activations (and per-gene thetas) are all
    // finite; then mu, pi and theta are finite and inside the bounds, and every log argument in
    // the loss is a positive normal float. Anything else, e.g. a diverging network's NaN, takes
    // the checked kernel, so NaN and infinity still reach the guard.
    const auto lean = per_gene ? kernel::pick<T, true>(zi, soft, false) : kernel::pick<T, false>(zi, soft, false);
    const bool may_lean = options_.clip_heads && (!per_gene || all_finite(gene_theta_.data(), genes_));
    const kernel::GeneTerms<T> terms{gene_cap_.data(), gene_scale_.data(), gene_lg_.data(), gene_dg_.data(), gene_log_te_.data(),
                                     gene_slope_.data(), bounds_};
    // Cells split across threads; each thread has its own scratch. Per-cell sums are added up
    // afterwards in cell order, so the total does not depend on the split.
    parallel(b, 1, [&](int t, Eigen::Index c0, Eigen::Index n) {
        for (Eigen::Index j = c0; j < c0 + n; ++j) {
            const T s = options_.size_factor_mean ? sf_[static_cast<std::size_t>(j)] : T(1);
            // A network with a pi head under the NB loss: the kernel has no pi, so pi is activated here.
            if (options_.zero_inflated && !zi) kernel::activate_pi<true>(&pre_(pi_row_, j), &out_(pi_row_, j), genes_);
            const kernel::Column<T> c{&pre_(0, j),  &pre_(pi_row_, j),  &pre_(theta_row_, j),  s,
                                      &out_(0, j),  &out_(pi_row_, j),  &out_(theta_row_, j),  &dpre_(0, j),
                                      &dpre_(pi_row_, j), &dpre_(theta_row_, j), element_loss_.col(t).data()};
            const auto kernel = may_lean && all_finite(&pre_(0, j), head_rows_) ? lean : checked;
            const kernel::CellLoss r = kernel(c, counts.cell(j), terms, genes_, T(loss.ridge), guarded, packed_[static_cast<std::size_t>(t)]);
            cell_loss_[static_cast<std::size_t>(j)] = r.sum;
            cell_used_[static_cast<std::size_t>(j)] = r.used;
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
            dbias.noalias() = d.rowwise().sum();
            if (last_sparse_) {
                // Column g = zero(g) (d 1) + sum over the cells with a count at g of value d_k.
                by_gene_.build(*last_sparse_, b);
                const T* zero = last_sparse_->zero();
                parallel(genes_, 4, [&](int, Eigen::Index g0, Eigen::Index n) {
                    for (Eigen::Index g = g0; g < g0 + n; ++g) {
                        const SparseEntries<T> e = by_gene_.gene(g);
                        gather_axpy_rows<T>(d.data(), d.outerStride(), e.index, e.value, e.n, zero[g], dbias.data(),
                                            dW.col(g).data(), l.out);
                    }
                });
            } else {
                const ConstMatMap<T> x(last_x_, genes_, b);
                parallel(genes_, 4, [&](int, Eigen::Index g0, Eigen::Index n) {
                    auto dWt = dW.middleCols(g0, n);
                    mat_mul_nt<T>(d, x.middleRows(g0, n), dWt);
                });
            }
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
    recalibrate_layers(n, [&](Mat<T>& z) {
        const DenseOffsets& l = layout_[0];
        const VecMap<T> bias = slice(params, l.b, l.out);
        for (Eigen::Index start = 0; start < n; start += max_batch_) {
            const Eigen::Index b = std::min(max_batch_, n - start);
            const ConstMatMap<T> x(chunk(start, b), genes_, b);
            parallel(l.out, 8, [&](int, Eigen::Index r0, Eigen::Index m) {
                auto zt = z.block(r0, start, m, b);
                mat_mul<T>(weight(params, l).middleRows(r0, m), x, zt);
                zt.colwise() += bias.segment(r0, m);
            });
        }
    });
}

template <typename T>
void Network<T>::recalibrate_batchnorm_sparse(
    Eigen::Index n, const std::function<const SparseInput<T>&(Eigen::Index, Eigen::Index)>& chunk) {
    recalibrate_layers(n, [&](Mat<T>& z) {
        for (Eigen::Index start = 0; start < n; start += max_batch_) {
            const Eigen::Index b = std::min(max_batch_, n - start);
            sparse_input_product(chunk(start, b), b, z.col(start).data());
        }
    });
}

template <typename T>
template <typename F>
void Network<T>::recalibrate_layers(Eigen::Index n, F&& input_layer) {
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
        if (k == 0) {
            input_layer(*next);  // pre-activations of every cell, bias included
        } else {
            const VecMap<T> bias = slice(params, l.b, l.out);
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
