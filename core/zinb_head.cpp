#include "zinb_head.hpp"

#include <cmath>
#include <stdexcept>

#include "fast_math.hpp"

namespace zimpute {

template <typename T>
ZinbHead<T>::ZinbHead(const ParamLayout& layout, const NetworkOptions& options, Eigen::Index max_batch)
    : options_(options),
      bounds_(head_bounds<T>(options.clip_heads)),
      genes_(layout.genes),
      max_batch_(max_batch),
      head_rows_(layout.head_rows),
      pi_row_(layout.pi_row),
      theta_row_(layout.theta_row),
      per_gene_(layout.theta_param >= 0) {
    if (max_batch < 1) throw std::invalid_argument("network needs at least one gene and one cell");
    pre_ = Mat<T>::Zero(3 * genes_, max_batch);
    out_ = Mat<T>::Zero(3 * genes_, max_batch);
    dpre_ = Mat<T>::Zero(3 * genes_, max_batch);
    sf_.assign(static_cast<std::size_t>(max_batch), T(1));
    cell_loss_.resize(static_cast<std::size_t>(max_batch));
    cell_used_.resize(static_cast<std::size_t>(max_batch));
    for (Vec<T>* v : {&gene_theta_, &gene_cap_, &gene_scale_, &gene_lg_, &gene_dg_, &gene_log_te_, &gene_slope_})
        *v = Vec<T>::Zero(genes_);
    set_pool(nullptr, 1);
}

template <typename T>
void ZinbHead<T>::set_pool(ThreadPool* pool, int threads) {
    pool_ = pool;
    threads_ = pool ? std::max(1, std::min(threads, pool->size())) : 1;
    element_loss_ = Mat<T>::Zero(genes_, threads_);
    packed_.resize(static_cast<std::size_t>(threads_));
    for (auto& p : packed_) p.resize(genes_);
}

template <typename T>
void ZinbHead<T>::activate_gene_theta(const T* params, Eigen::Index b) {
    if (!per_gene_) return;
    // One theta per gene: activate once, not once per cell.
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    for (Eigen::Index i = 0; i < genes_; ++i) {
        T slope;
        gene_theta_(i) = soft ? kernel::theta_activation<true, true>(params[i], bounds_, slope)
                              : kernel::theta_activation<true, false>(params[i], bounds_, slope);
        gene_slope_(i) = slope;
    }
    out_.block(theta_row_, 0, genes_, b).colwise() = gene_theta_;
}

template <typename T>
void ZinbHead<T>::activate(Eigen::Index b, Eigen::Index g0, Eigen::Index g1) {
    // The loss kernel's loops, always in their checked forms: this is the inference path
    // (imputation, tests), which has no proof that the pre-activations are finite.
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    const Eigen::Index n = g1 - g0;
    std::vector<T>& slope = packed_[0].slope_all;  // required by the theta loop, not used
    for (Eigen::Index j = 0; j < b; ++j) {
        const T s = options_.size_factor_mean ? sf_[static_cast<std::size_t>(j)] : T(1);
        kernel::activate_mu<true>(&pre_(g0, j), &out_(g0, j), n, s, bounds_);
        if (!per_gene_) {
            if (soft) kernel::activate_theta<true, true>(&pre_(theta_row_ + g0, j), &out_(theta_row_ + g0, j), slope.data() + g0, n, bounds_);
            else kernel::activate_theta<true, false>(&pre_(theta_row_ + g0, j), &out_(theta_row_ + g0, j), slope.data() + g0, n, bounds_);
        }
        if (options_.zero_inflated) kernel::activate_pi<true>(&pre_(pi_row_ + g0, j), &out_(pi_row_ + g0, j), n);
    }
}

template <typename T>
double ZinbHead<T>::loss_and_gradient(const T* y_ptr, const T* lgy1_ptr, Eigen::Index b, const LossOptions& loss,
                                      Eigen::Index* used) {
    if (b > max_batch_ || b < 1) throw std::invalid_argument("batch size out of range");
    if (dense_counts_.genes() != genes_) dense_counts_.resize(genes_, max_batch_);
    for (Eigen::Index j = 0; j < b; ++j) dense_counts_.set_dense(j, y_ptr + j * genes_, lgy1_ptr + j * genes_);
    return loss_and_gradient(dense_counts_, b, loss, used);
}

template <typename T>
void ZinbHead<T>::gene_theta_terms() {
    for (Eigen::Index i = 0; i < genes_; ++i) {
        const ThetaTerms<T> t = theta_terms(gene_theta_(i));
        gene_cap_(i) = t.theta;
        gene_scale_(i) = t.scale;
        gene_lg_(i) = t.lg;
        gene_dg_(i) = t.dg;
        gene_log_te_(i) = t.log_te;
    }
}

template <typename T>
double ZinbHead<T>::loss_and_gradient(const kernel::CountBatch<T>& counts, Eigen::Index b, const LossOptions& loss,
                                      Eigen::Index* used) {
    if (b > max_batch_ || b < 1 || counts.genes() != genes_ || counts.max_batch() < b)
        throw std::invalid_argument("loss: counts do not match the batch");
    const bool soft = options_.theta_activation == ThetaActivation::softplus;
    const bool zi = options_.zero_inflated && loss.kind != LossKind::nb;
    const bool guarded = loss.kind == LossKind::zinb_guarded;
    if (per_gene_) gene_theta_terms();
    const auto checked = per_gene_ ? kernel::pick<T, true>(zi, soft) : kernel::pick<T, false>(zi, soft);
    // The unchecked kernel (fast_math.hpp's log and exp without special values) where it is
    // proven safe: bounded heads and a cell whose pre-activations (and per-gene thetas) are all
    // finite; then mu, pi and theta are finite and inside the bounds, and every log argument in
    // the loss is a positive normal float. Anything else, e.g. a diverging network's NaN, takes
    // the checked kernel, so NaN and infinity still reach the guard.
    const auto lean = per_gene_ ? kernel::pick<T, true>(zi, soft, false) : kernel::pick<T, false>(zi, soft, false);
    const bool may_lean = options_.clip_heads && (!per_gene_ || all_finite(gene_theta_.data(), genes_));
    const kernel::GeneTerms<T> terms{gene_cap_.data(), gene_scale_.data(), gene_lg_.data(), gene_dg_.data(), gene_log_te_.data(),
                                     gene_slope_.data(), bounds_};
    // Cells split across threads; each thread has its own scratch.
    parallel_parts(pool_, threads_, b, [&](int t, Eigen::Index c0, Eigen::Index c1) {
        for (Eigen::Index j = c0; j < c1; ++j) {
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
    }, 1);
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

template class ZinbHead<float>;
template class ZinbHead<double>;

}  // namespace zimpute
