// The network's building blocks, each forward next to its backward (shapes in comments).
// Matrices are features x cells: a batch of b cells is b columns. Templated on the scalar so the
// tests check every gradient in double while training runs in float.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <type_traits>

#include "gemm.hpp"

namespace zimpute {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using MatMap = Eigen::Map<Mat<T>>;
template <typename T>
using VecMap = Eigen::Map<Vec<T>>;
template <typename T>
using ConstMatMap = Eigen::Map<const Mat<T>>;

// ---- Products: Eigen natively; in the wasm float build the SIMD128 kernels of gemm.hpp ------
// Operands are Eigen objects with direct storage (matrices, maps, column blocks).
#if defined(__wasm_simd128__)
constexpr bool kWasmGemm = true;
#else
constexpr bool kWasmGemm = false;
#endif

// out = a b
template <typename T, typename A, typename B, typename C>
void mat_mul(const A& a, const B& b, C& out) {
    if constexpr (kWasmGemm && std::is_same<T, float>::value)
        gemm_nn(out.rows(), out.cols(), a.cols(), a.data(), a.outerStride(), b.data(), 1, b.outerStride(), out.data(),
                out.outerStride());
    else
        out.noalias() = a * b;
}
// out = a b^T
template <typename T, typename A, typename B, typename C>
void mat_mul_nt(const A& a, const B& b, C& out) {
    if constexpr (kWasmGemm && std::is_same<T, float>::value)
        gemm_nn(out.rows(), out.cols(), a.cols(), a.data(), a.outerStride(), b.data(), b.outerStride(), 1, out.data(),
                out.outerStride());
    else
        out.noalias() = a * b.transpose();
}
// out = a^T b
template <typename T, typename A, typename B, typename C>
void mat_mul_tn(const A& a, const B& b, C& out) {
    if constexpr (kWasmGemm && std::is_same<T, float>::value)
        gemm_tn(out.rows(), out.cols(), a.rows(), a.data(), a.outerStride(), b.data(), b.outerStride(), out.data(),
                out.outerStride());
    else
        out.noalias() = a.transpose() * b;
}

// ---- Dense: out = W in + b ----------------------------------------------------------------
// W (o x i), b (o), in (i x n), out (o x n)
template <typename T, typename In, typename Out>
void dense_forward(const MatMap<T>& W, const VecMap<T>& b, const Eigen::MatrixBase<In>& in,
                   Eigen::MatrixBase<Out> const& out_) {
    auto& out = const_cast<Eigen::MatrixBase<Out>&>(out_).derived();
    mat_mul<T>(W, in.derived(), out);
    out.colwise() += b;
}
// dout (o x n) -> dW (o x i) = dout in^T, db (o) = row sums. The caller forms din = W^T dout
// only where it is needed (not for the input layer).
template <typename T, typename In, typename DOut>
void dense_backward(const Eigen::MatrixBase<In>& in, const Eigen::MatrixBase<DOut>& dout,
                    MatMap<T>& dW, VecMap<T>& db) {
    mat_mul_nt<T>(dout.derived(), in.derived(), dW);
    db.noalias() = dout.rowwise().sum();
}

// ---- BatchNorm (training mode): y = gamma * (z - mean) / sqrt(var + eps) + beta -------------
// z (o x n) is normalized in place into zhat; mean, invstd (o) are kept for the backward pass
// and for the running statistics. Variance is the biased batch variance (as Keras).
template <typename T, typename Z>
void batchnorm_forward_train(Eigen::MatrixBase<Z> const& zhat_, Vec<T>& mean, Vec<T>& invstd, T eps) {
    auto& zhat = const_cast<Eigen::MatrixBase<Z>&>(zhat_);
    const T n = T(zhat.cols());
    mean = zhat.rowwise().sum() / n;
    zhat.colwise() -= mean;
    invstd = ((zhat.array().square().rowwise().sum() / n) + eps).rsqrt().matrix();
    zhat = invstd.asDiagonal() * zhat;
}
// Inference: zhat = (z - running_mean) / sqrt(running_var + eps)
template <typename T, typename Z, typename M, typename V>
void batchnorm_forward_infer(Eigen::MatrixBase<Z> const& zhat_, const Eigen::MatrixBase<M>& rmean,
                             const Eigen::MatrixBase<V>& rvar, T eps) {
    auto& zhat = const_cast<Eigen::MatrixBase<Z>&>(zhat_);
    zhat.colwise() -= rmean;
    zhat = (rvar.array() + eps).rsqrt().matrix().asDiagonal() * zhat;
}
// Affine part y = gamma * zhat + beta, y (o x n)
template <typename T, typename Z, typename Y>
void batchnorm_affine(const VecMap<T>& gamma, const VecMap<T>& beta, const Eigen::MatrixBase<Z>& zhat,
                      Eigen::MatrixBase<Y> const& y_) {
    auto& y = const_cast<Eigen::MatrixBase<Y>&>(y_);
    y.noalias() = gamma.asDiagonal() * zhat;
    y.colwise() += beta;
}
// dy (o x n) -> dgamma, dbeta (o), and dz (o x n) written over dy:
//   dzhat = gamma dy;  dz = invstd / n * (n dzhat - sum(dzhat) - zhat * sum(dzhat zhat))
template <typename T, typename Z, typename DY>
void batchnorm_backward(const VecMap<T>& gamma, const Eigen::MatrixBase<Z>& zhat, const Vec<T>& invstd,
                        Eigen::MatrixBase<DY> const& dy_, VecMap<T>& dgamma, VecMap<T>& dbeta) {
    auto& dy = const_cast<Eigen::MatrixBase<DY>&>(dy_);
    const T n = T(dy.cols());
    dbeta = dy.rowwise().sum();
    dgamma = dy.cwiseProduct(zhat).rowwise().sum();
    // sum(dzhat) = gamma * dbeta and sum(dzhat zhat) = gamma * dgamma; written per column as
    // one expression so nothing is allocated
    for (Eigen::Index j = 0; j < dy.cols(); ++j)
        dy.col(j).array() = (invstd.array() / n) * gamma.array() *
                            (n * dy.col(j).array() - dbeta.array() - zhat.col(j).array() * dgamma.array());
}

// ---- ReLU, applied in place; the backward mask is recomputed from the output (a > 0) -------
template <typename Z>
void relu_forward(Eigen::MatrixBase<Z> const& a_) {
    auto& a = const_cast<Eigen::MatrixBase<Z>&>(a_);
    a = a.cwiseMax(typename Z::Scalar(0));
}
template <typename A, typename D>
void relu_backward(const Eigen::MatrixBase<A>& a, Eigen::MatrixBase<D> const& d_) {
    auto& d = const_cast<Eigen::MatrixBase<D>&>(d_);
    d = (a.array() > 0).select(d, typename D::Scalar(0));
}

// ---- Output heads: bounds on the activations, as DCA's MeanAct and DispAct -----------------
constexpr double kMuMin = 1e-5, kMuMax = 1e6, kThetaMin = 1e-4, kThetaHeadMax = 1e4;

/// The heads' bounds in force: DCA's above, or none (plain exp and softplus heads,
/// whose overflow to infinity reaches the loss and so the trainer's divergence guard). A value
/// at a bound gets zero gradient through it.
template <typename T>
struct HeadBounds {
    T mu_lo, mu_hi, log_mu_lo, log_mu_hi, th_lo, th_hi;
};
template <typename T>
HeadBounds<T> head_bounds(bool clip) {
    const T inf = std::numeric_limits<T>::infinity();
    if (!clip) return {T(0), inf, -inf, inf, T(0), inf};
    return {T(kMuMin), T(kMuMax), T(std::log(kMuMin)), T(std::log(kMuMax)), T(kThetaMin), T(kThetaHeadMax)};
}

template <typename T>
inline T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }
template <typename T>
inline T softplus(T x) { return x > T(20) ? x : std::log1p(std::exp(x)); }

}  // namespace zimpute
