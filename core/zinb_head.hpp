// The network's output heads past their Dense layer: the activations mu (exp, clipped, times the
// cell's size factor), pi (sigmoid) and theta (softplus or exp, clipped, per cell and gene or one
// per gene), and the ZINB / NB loss with its gradient w.r.t. the heads' pre-activations, fused
// in the vectorized kernel (zinb_kernel.hpp).
//
// It owns the heads' matrices, 3 genes x max_batch each (rows [mu; pi; theta] at the layout's
// rows): the pre-activations, which the network's head Dense layer writes; the activations; and
// the gradient w.r.t. the pre-activations, which the network's backward reads. Also the loss's
// scratch, sized once (per thread and per cell): a batch allocates nothing.
#pragma once

#include <vector>

#include "count_batch.hpp"
#include "layers.hpp"
#include "network_options.hpp"
#include "param_layout.hpp"
#include "thread_pool.hpp"
#include "zinb_kernel.hpp"
#include "zinb_loss.hpp"

namespace zimpute {

template <typename T>
class ZinbHead {
public:
    ZinbHead(const ParamLayout& layout, const NetworkOptions& options, Eigen::Index max_batch);

    /// Splits the activations and the loss across `threads` of the pool's threads (at most its
    /// size; nullptr: the calling thread only), with scratch for each.
    void set_pool(ThreadPool* pool, int threads);
    /// The size factors of the batch's b cells (mu is multiplied by them with size_factor_mean).
    void set_size_factors(const T* sf, Eigen::Index b) { std::copy(sf, sf + b, sf_.data()); }
    /// With one theta per gene: activates the genes' theta parameters (the layout's theta_param
    /// entries of params) once and fills theta's rows for b cells. Nothing otherwise.
    void activate_gene_theta(const T* params, Eigen::Index b);
    /// The activations of genes [g0, g1) of b cells from pre() (the inference path; checked
    /// forms, so non-finite pre-activations give non-finite outputs). Genes of different calls
    /// may run on different threads.
    void activate(Eigen::Index b, Eigen::Index g0, Eigen::Index g1);
    /// Mean loss of b cells against their counts, the activations, and the gradient w.r.t. the
    /// pre-activations into dpre(); NaN if nothing counted. Cells split across the threads; the
    /// per-cell sums are added in cell order, so the loss does not depend on the split.
    double loss_and_gradient(const kernel::CountBatch<T>& counts, Eigen::Index b, const LossOptions& loss,
                             Eigen::Index* used = nullptr);
    /// The same for dense counts y (genes x b) with lgamma(y+1) precomputed (tests, small data).
    double loss_and_gradient(const T* y, const T* lgy1, Eigen::Index b, const LossOptions& loss, Eigen::Index* used = nullptr);

    Mat<T>& pre() { return pre_; }
    const Mat<T>& dpre() const { return dpre_; }
    auto mu(Eigen::Index b) const { return out_.block(0, 0, genes_, b); }
    auto pi(Eigen::Index b) const { return out_.block(pi_row_, 0, genes_, b); }
    auto theta(Eigen::Index b) const { return out_.block(theta_row_, 0, genes_, b); }

private:
    NetworkOptions options_;
    HeadBounds<T> bounds_;  // from options_.clip_heads
    Eigen::Index genes_, max_batch_, head_rows_, pi_row_, theta_row_;
    bool per_gene_;  // one theta per gene
    Mat<T> pre_;   // (3 genes) x max_batch: pre-activations
    Mat<T> out_;   // same shape: mu, pi, theta after activation
    Mat<T> dpre_;  // same shape: dL/d pre-activation
    std::vector<T> sf_;  // size factors of the batch's cells
    // Per-gene dispersion: theta, then its capped value and theta-only loss terms (ThetaTerms as
    // arrays, so the loss kernel loads them as vectors) and d theta / d parameter.
    Vec<T> gene_theta_, gene_cap_, gene_scale_, gene_lg_, gene_dg_, gene_log_te_, gene_slope_;
    // Per thread: one cell's per-gene losses and the loss kernel's scratch. Per cell of a batch:
    // loss sum, elements used.
    Mat<T> element_loss_;
    std::vector<kernel::Packed<T>> packed_;
    std::vector<double> cell_loss_;
    std::vector<Eigen::Index> cell_used_;
    ThreadPool* pool_ = nullptr;
    int threads_ = 1;
    kernel::CountBatch<T> dense_counts_;  // the dense loss_and_gradient's counts, sized on first use
    void gene_theta_terms();
};

extern template class ZinbHead<float>;
extern template class ZinbHead<double>;

}  // namespace zimpute
