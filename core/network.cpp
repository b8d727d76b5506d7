#include "network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rng.hpp"

namespace zimpute {

namespace {

Eigen::Index checked_batch(Eigen::Index n_genes, Eigen::Index max_batch) {
    if (n_genes < 1 || max_batch < 1) throw std::invalid_argument("network needs at least one gene and one cell");
    return max_batch;
}

}  // namespace

template <typename T>
Network<T>::Network(Eigen::Index n_genes, NetworkOptions options, std::uint64_t seed, Eigen::Index max_batch)
    : options_(std::move(options)),
      genes_(n_genes),
      max_batch_(checked_batch(n_genes, max_batch)),
      latent_(static_cast<Eigen::Index>(options_.hidden.size() / 2)),
      layout_(n_genes, options_),
      head_(layout_, options_, max_batch) {
    params = Vec<T>::Zero(layout_.params);
    grads = Vec<T>::Zero(layout_.params);
    running_mean = Vec<T>::Zero(layout_.stats);
    running_var = Vec<T>::Ones(layout_.stats);

    // Glorot-uniform weights, zero biases, BN gamma = 1 and beta = 0 (Keras defaults).
    Rng rng(seed);
    auto glorot = [&](const DenseOffsets& l) {
        const double limit = std::sqrt(6.0 / static_cast<double>(l.in + l.out));
        for (Eigen::Index k = 0; k < l.in * l.out; ++k) params(l.w + k) = T((2.0 * rng.uniform() - 1.0) * limit);
    };
    for (const auto& l : layout_.hidden) {
        glorot(l);
        if (l.gamma >= 0) params.segment(l.gamma, l.out).setOnes();
    }
    glorot(layout_.head);

    for (const auto& l : layout_.hidden) {
        Hidden h;
        h.zhat = Mat<T>::Zero(l.out, max_batch);
        h.a = Mat<T>::Zero(l.out, max_batch);
        h.mean = Vec<T>::Zero(l.out);
        h.invstd = Vec<T>::Ones(l.out);
        hidden_.push_back(std::move(h));
    }
    Eigen::Index widest = 0;
    for (int w : options_.hidden) widest = std::max<Eigen::Index>(widest, w);
    input_const_ = Vec<T>::Zero(layout_.hidden[0].out);
    da_ = Mat<T>::Zero(widest, max_batch);
    db_ = Mat<T>::Zero(widest, max_batch);
}

template <typename T>
void Network<T>::set_pool(ThreadPool* pool, int threads) {
    pool_ = pool;
    threads_ = pool ? std::max(1, std::min(threads, pool->size())) : 1;
    head_.set_pool(pool, threads_);
}

template <typename T>
void Network<T>::forward(const T* x, const T* sf, Eigen::Index b, bool training, bool activate) {
    if (b > max_batch_ || b < 1) throw std::invalid_argument("batch size out of range");
    head_.set_size_factors(sf, b);  // the loss kernel activates mu with them
    last_x_ = x;
    last_sparse_ = nullptr;
    forward_layers(b, training, activate);
}

template <typename T>
void Network<T>::forward(const SparseInput<T>& x, const T* sf, Eigen::Index b, bool training, bool activate) {
    if (b > max_batch_ || b < 1 || b > x.max_batch()) throw std::invalid_argument("batch size out of range");
    if (x.genes() != genes_) throw std::invalid_argument("sparse input has the wrong number of genes");
    head_.set_size_factors(sf, b);
    last_x_ = nullptr;
    last_sparse_ = &x;
    forward_layers(b, training, activate);
}

template <typename T>
void Network<T>::sparse_input_product(const SparseInput<T>& x, Eigen::Index b, T* z) {
    // z (o x b, columns o apart) = W x + bias = c + W deviations, with c = W zero + bias: the
    // constant part once for the batch (gather_axpy over all genes), then per cell its entries.
    const DenseOffsets& l = layout_.hidden[0];
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

    for (std::size_t k = 0; k < layout_.hidden.size(); ++k) {
        const DenseOffsets& l = layout_.hidden[k];
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

    forward_heads(b, activate);
}

template <typename T>
void Network<T>::forward_heads(Eigen::Index b, bool activate) {
    // pre = W_h a_last + b_h, rows [mu; pi?; theta?] (head_rows x b), then activations; genes
    // split across threads (each thread its genes' rows of every head).
    if (layout_.theta_param >= 0) head_.activate_gene_theta(params.data() + layout_.theta_param, b);
    const auto a_last = hidden_.back().a.leftCols(b);
    const DenseOffsets& l = layout_.head;
    Mat<T>& pre_all = head_.pre();
    parallel(genes_, 8, [&](int, Eigen::Index g0, Eigen::Index n) {
        for (Eigen::Index r0 = g0; r0 < l.out; r0 += genes_) {
            auto pre = pre_all.block(r0, 0, n, b);
            mat_mul<T>(weight(params, l).middleRows(r0, n), a_last, pre);
            pre.colwise() += slice(params, l.b, l.out).segment(r0, n);
        }
        if (activate) head_.activate(b, g0, g0 + n);
    });
}

template <typename T>
double Network<T>::loss_and_head_gradient(const T* y, const T* lgy1, Eigen::Index b, const LossOptions& loss,
                                          Eigen::Index* used) {
    return head_.loss_and_gradient(y, lgy1, b, loss, used);
}

template <typename T>
double Network<T>::loss_and_head_gradient(const kernel::CountBatch<T>& counts, Eigen::Index b, const LossOptions& loss,
                                          Eigen::Index* used) {
    return head_.loss_and_gradient(counts, b, loss, used);
}

template <typename T>
void Network<T>::backward_heads(Eigen::Index b) {
    // d pre (head_rows x b) -> dW_h = d pre a_last^T, db_h, d a_last = W_h^T d pre (into da_).
    // One parallel region: dW_h and db_h split by rows (genes), d a_last by its rows (units).
    const DenseOffsets& l = layout_.head;
    const auto dpre = head_.dpre().block(0, 0, l.out, b);
    const auto a_last = hidden_.back().a.leftCols(b);
    auto d_last = da_.topLeftCorner(l.in, b);
    auto head_part = [&](int t, int parts) {
        const auto rows = split_range(l.out, parts, t, 8);
        if (rows.first < rows.second) {
            const Eigen::Index n = rows.second - rows.first;
            auto dW = weight(grads, l).middleRows(rows.first, n);
            mat_mul_nt<T>(dpre.middleRows(rows.first, n), a_last, dW);
            slice(grads, l.b, l.out).segment(rows.first, n) = dpre.middleRows(rows.first, n).rowwise().sum();
        }
        const auto out = split_range(l.in, parts, t, 8);
        if (out.first < out.second) {
            const Eigen::Index n = out.second - out.first;
            auto d = d_last.middleRows(out.first, n);
            mat_mul_tn<T>(weight(params, l).middleCols(out.first, n), dpre, d);
        }
    };
    if (pool_ && threads_ > 1) pool_->run([&](int t) { head_part(t, threads_); }, threads_);
    else head_part(0, 1);
    if (layout_.theta_param >= 0)
        grads.segment(layout_.theta_param, genes_) = head_.dpre().block(layout_.theta_row, 0, genes_, b).rowwise().sum();
}

template <typename T>
void Network<T>::backward(Eigen::Index b) {
    // Every gradient entry is assigned below (no accumulation), so grads is not cleared first:
    // clearing it was a 1 MB write per batch in an epoch bound by memory traffic. The
    // whole-network gradient checks would see any entry left stale.
    backward_heads(b);
    Mat<T>* dcur = &da_;
    Mat<T>* dnext = &db_;
    for (std::size_t k = layout_.hidden.size(); k-- > 0;) {
        const DenseOffsets& l = layout_.hidden[k];
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

template class Network<float>;
template class Network<double>;

}  // namespace zimpute
