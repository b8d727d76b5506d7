// Network's BatchNorm recalibration (network.hpp): the running statistics replaced by the exact
// population statistics of a set of cells, layer by layer.
#include "network.hpp"

namespace zimpute {

template <typename T>
void Network<T>::recalibrate_batchnorm(Eigen::Index n, const std::function<const T*(Eigen::Index, Eigen::Index)>& chunk) {
    recalibrate_layers(n, [&](Mat<T>& z) {
        const DenseOffsets& l = layout_.hidden[0];
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
    for (std::size_t k = 0; k < layout_.hidden.size(); ++k) {
        const DenseOffsets& l = layout_.hidden[k];
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
        if (k + 1 == layout_.hidden.size()) break;
        // The next layer's input: this layer in inference mode under the statistics just set.
        batchnorm_forward_infer<T>(z, running_mean.segment(l.stats, l.out), running_var.segment(l.stats, l.out), eps);
        z = (slice(params, l.gamma, l.out).asDiagonal() * z).colwise() + slice(params, l.beta, l.out);
        relu_forward(z);
    }
}

#define ZIMPUTE_RECALIBRATE(T)                                                                                    \
    template void Network<T>::recalibrate_batchnorm(Eigen::Index,                                                 \
                                                    const std::function<const T*(Eigen::Index, Eigen::Index)>&); \
    template void Network<T>::recalibrate_batchnorm_sparse(                                                       \
        Eigen::Index, const std::function<const SparseInput<T>&(Eigen::Index, Eigen::Index)>&);
ZIMPUTE_RECALIBRATE(float)
ZIMPUTE_RECALIBRATE(double)
#undef ZIMPUTE_RECALIBRATE

}  // namespace zimpute
