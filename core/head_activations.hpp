// The output heads' activations (DCA's MeanAct, DispAct and the pi sigmoid), shared by the loss
// kernel (training: zinb_kernel.hpp) and ZinbHead::activate (inference):
//   mu = size factor * clamp(exp(p), mu bounds), theta = clamp(softplus(p) or exp(p), theta
//   bounds), pi = sigmoid(p),
// with theta's derivative d theta / d p (0 at a bound), which the loss needs. Branch-free, always
// inlined into loops that vectorize; the loops over a cell's genes are here too.
//
// Checked: special values as std:: gives them, and the clamps keep a NaN (so divergence is seen).
// Checked = false (bounded heads and finite pre-activations only, see
// ZinbHead::loss_and_gradient): the unchecked exp gives ~2.4e38 and ~1.2e-38 where exp gives
// inf and 0, which the clamps map to the same bounds, and the clamps need not keep NaN
// (clamp<false> in fast_math.hpp).
#pragma once

#include <Eigen/Core>

#include "fast_math.hpp"
#include "layers.hpp"

namespace zimpute::kernel {

template <bool Checked, typename T>
ZIMPUTE_ALWAYS_INLINE T mu_activation(T p, T size_factor, const HeadBounds<T>& hb) {
    return size_factor * clamp<Checked>(fexp<Checked>(p), hb.mu_lo, hb.mu_hi);
}
// The loss's gradient w.r.t. mu's pre-activation p, given its gradient w.r.t. mu:
// d mu / d p = mu, and 0 beyond the bounds, where the clamp holds mu.
template <typename T>
ZIMPUTE_ALWAYS_INLINE T mu_chain(T p, T d_mu, T mu, const HeadBounds<T>& hb) {
    return ((p < hb.log_mu_lo) | (p > hb.log_mu_hi)) ? T(0) : d_mu * mu;
}
// pi in [0, 1] either way: the unchecked exp's finite extremes give ~4e-39, not 0.
template <bool Checked, typename T>
ZIMPUTE_ALWAYS_INLINE T pi_activation(T p) { return T(1) / (T(1) + fexp<Checked>(-p)); }
// theta and its slope given e = exp(p): the derivative shares it with the activation
// (softplus' = e / (1 + e)).
template <bool Checked, bool Softplus, typename T>
ZIMPUTE_ALWAYS_INLINE T theta_from_exp(T p, T e, const HeadBounds<T>& hb, T& slope) {
    T t, d;
    if (Softplus) {
        t = p > T(20) ? p : flog1p<Checked>(e);
        d = p > T(20) ? T(1) : e / (T(1) + e);
    } else {
        t = e, d = e;
    }
    t = clamp<Checked>(t, hb.th_lo, hb.th_hi);
    slope = ((t <= hb.th_lo) | (t >= hb.th_hi)) ? T(0) : d;
    return t;
}
template <bool Checked, bool Softplus, typename T>
ZIMPUTE_ALWAYS_INLINE T theta_activation(T p, const HeadBounds<T>& hb, T& slope) {
    return theta_from_exp<Checked, Softplus>(p, fexp<Checked>(p), hb, slope);
}

// The activations of n genes of one cell from their pre-activations, one head per loop: kept
// apart (and out of line), each loop is short enough for V8 to keep its values in registers.
template <bool Checked, typename T>
ZIMPUTE_NOINLINE void activate_mu(const T* __restrict pm, T* __restrict mu, Eigen::Index n, T size_factor, HeadBounds<T> hb) {
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) mu[i] = mu_activation<Checked>(pm[i], size_factor, hb);
}
template <bool Checked, bool Softplus, typename T>
ZIMPUTE_NOINLINE void activate_theta(const T* __restrict pt, T* __restrict th, T* __restrict slope, Eigen::Index n,
                                     HeadBounds<T> hb) {
    // exp(p) first, into slope, then theta and its slope from it: two loops with fewer constants
    // each (in one, V8 kept reloading the exp's and the log's from the stack: 1.4x the time).
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) slope[i] = fexp<Checked>(pt[i]);
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) th[i] = theta_from_exp<Checked, Softplus>(pt[i], slope[i], hb, slope[i]);
}
template <bool Checked, typename T>
ZIMPUTE_NOINLINE void activate_pi(const T* __restrict pp, T* __restrict pi, Eigen::Index n) {
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) pi[i] = pi_activation<Checked>(pp[i]);
}

}  // namespace zimpute::kernel
