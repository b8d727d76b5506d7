// The DCA autoencoder: Dense[BN]ReLU hidden layers (default 64-32-64) and output heads
// mu (exp, clipped, times size factor), pi (sigmoid), theta (softplus or exp, clipped).
//
// All trainable parameters live in one flat vector; each layer reads them through Eigen::Map
// views at the offsets of its ParamLayout (param_layout.hpp), and the gradients use the same
// layout, so the optimizer is one loop. The heads' activations and the loss are the ZinbHead's
// (zinb_head.hpp); BatchNorm recalibration is in network_recalibrate.cpp.
// Workspaces are sized for the largest batch once; a batch never allocates.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "layers.hpp"
#include "network_options.hpp"
#include "param_layout.hpp"
#include "sparse_input.hpp"
#include "thread_pool.hpp"
#include "zinb_head.hpp"
#include "zinb_loss.hpp"

namespace zimpute {

template <typename T>
class Network {
public:
    Network(Eigen::Index n_genes, NetworkOptions options, std::uint64_t seed, Eigen::Index max_batch);

    /// Forward pass over b cells stored as consecutive columns: x (G x b), sf (b).
    /// training: batch statistics in BN and running statistics updated; else running statistics.
    /// activate = false stops at the heads' pre-activations: loss_and_head_gradient computes the
    /// activations itself, fused with the loss (the trainer's path), and mu(), pi(), theta() hold
    /// them only after it.
    void forward(const T* x, const T* sf, Eigen::Index b, bool training, bool activate = true);
    /// The same for the first b cells of a sparse input (the trainer's path): the input layer
    /// works on the non-zero deviations only (sparse_input.hpp). x must stay unchanged until
    /// backward() has run.
    void forward(const SparseInput<T>& x, const T* sf, Eigen::Index b, bool training, bool activate = true);
    /// Mean loss of the last forward against the batch's counts, and its gradient w.r.t. the head
    /// pre-activations (kept for backward); also sets the head activations (mu(), pi(), theta()).
    /// NaN if nothing counted.
    double loss_and_head_gradient(const kernel::CountBatch<T>& counts, Eigen::Index b, const LossOptions& loss,
                                  Eigen::Index* used = nullptr);
    /// The same for dense counts y (G x b) with lgamma(y+1) precomputed (tests, small data).
    double loss_and_head_gradient(const T* y, const T* lgy1, Eigen::Index b, const LossOptions& loss,
                                  Eigen::Index* used = nullptr);
    /// Gradients of that loss w.r.t. every parameter into `grads` (overwritten).
    void backward(Eigen::Index b);
    /// Splits the large products, the head activations and the loss of each batch across
    /// `threads` of the pool's threads (nullptr or 1: the calling thread only). Every output element
    /// is computed by one thread; per-cell losses are summed in cell order, so the loss does not
    /// depend on the number of threads.
    void set_pool(ThreadPool* pool, int threads);
    /// Replaces the BN running statistics by the exact population statistics of n cells, layer by
    /// layer, each layer seeing the layers below in inference mode. Running averages lag behind
    /// the weights when the learning rate is high; this makes inference and validation use the
    /// statistics of the weights as they are. No-op without BatchNorm. `chunk(start, count)`
    /// returns the inputs of cells [start, start + count) as G x count, count <= max_batch().
    void recalibrate_batchnorm(Eigen::Index n, const std::function<const T*(Eigen::Index, Eigen::Index)>& chunk);
    /// The same for n cells stored contiguously (G x n).
    void recalibrate_batchnorm(const T* x, Eigen::Index n) {
        recalibrate_batchnorm(n, [&](Eigen::Index start, Eigen::Index) { return x + start * genes_; });
    }
    /// The same with `chunk(start, count)` filling the first count cells of a sparse input.
    void recalibrate_batchnorm_sparse(Eigen::Index n,
                                      const std::function<const SparseInput<T>&(Eigen::Index, Eigen::Index)>& chunk);

    /// Outputs of the last forward, G x b each (pi is all zero without zero inflation).
    auto mu(Eigen::Index b) const { return head_.mu(b); }
    auto pi(Eigen::Index b) const { return head_.pi(b); }
    auto theta(Eigen::Index b) const { return head_.theta(b); }
    /// Activations of the middle hidden layer (latent x b).
    auto latent(Eigen::Index b) const { return hidden_[latent_].a.leftCols(b); }

    Eigen::Index n_genes() const { return genes_; }
    Eigen::Index max_batch() const { return max_batch_; }
    const NetworkOptions& options() const { return options_; }
    /// Where each parameter and statistic sits in params, grads, running_mean and running_var.
    const ParamLayout& layout() const { return layout_; }

    Vec<T> params;        ///< every trainable parameter, flat
    Vec<T> grads;         ///< same layout as params
    Vec<T> running_mean;  ///< BN running statistics of all hidden layers, concatenated
    Vec<T> running_var;

private:
    struct Hidden {
        Mat<T> zhat;  // o x max_batch: pre-activation, normalized in place with BN
        Mat<T> a;     // o x max_batch: ReLU output
        Vec<T> mean, invstd;
    };
    MatMap<T> weight(Vec<T>& v, const DenseOffsets& l) { return MatMap<T>(v.data() + l.w, l.out, l.in); }
    VecMap<T> slice(Vec<T>& v, Eigen::Index off, Eigen::Index n) { return VecMap<T>(v.data() + off, n); }
    // Runs f(thread, begin, count) over the parts of [0, n) (boundaries multiples of align).
    template <typename F>
    void parallel(Eigen::Index n, Eigen::Index align, F&& f) {
        parallel_parts(pool_, threads_, n, [&](int t, Eigen::Index begin, Eigen::Index end) { f(t, begin, end - begin); }, align);
    }

    NetworkOptions options_;
    Eigen::Index genes_, max_batch_, latent_;
    ParamLayout layout_;
    ZinbHead<T> head_;
    std::vector<Hidden> hidden_;
    Mat<T> da_, db_;  // ping-pong buffers for dL/d(hidden activation)
    ThreadPool* pool_ = nullptr;
    int threads_ = 1;  // parts a batch is split into (<= pool_->size())
    Mat<T> recal_a_, recal_b_;  // recalibrate_batchnorm: one layer's outputs for every cell
    // Input of the last forward, read by backward: dense (G x b) or sparse, the other null.
    const T* last_x_ = nullptr;
    const SparseInput<T>* last_sparse_ = nullptr;
    Vec<T> input_const_;  // sparse input: the input layer's output for a cell with no counts (W zero + b)
    ByGene<T> by_gene_;   // sparse input: the batch's entries gene by gene, for the weight gradient
    void forward_layers(Eigen::Index b, bool training, bool activate);
    void forward_heads(Eigen::Index b, bool activate);
    void backward_heads(Eigen::Index b);
    void sparse_input_product(const SparseInput<T>& x, Eigen::Index b, T* z);
    template <typename F>
    void recalibrate_layers(Eigen::Index n, F&& input_layer);
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace zimpute
