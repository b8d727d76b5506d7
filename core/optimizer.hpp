// Adam and RMSprop over one flat parameter vector, with gradient clipping.
// Hyper-parameters (OptimizerOptions) are kept apart from the state the optimizer accumulates
// (OptimizerState), as in ensmallen: the trainer can reset the state after a divergence while
// the settings stay as the user chose them.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "layers.hpp"
#include "thread_pool.hpp"

namespace zimpute {

enum class OptimizerKind { adam, rmsprop };

struct OptimizerOptions {
    OptimizerKind kind = OptimizerKind::adam;
    // 1e-2, not Keras' 1e-3: with 1e-3 early stopping ends before mu reaches high-count genes
    // (mu ~1.3x the counts on held-out simulations); README "Defaults" has the comparison.
    double learning_rate = 1e-2;
    double beta1 = 0.9;        ///< Adam first-moment decay
    double beta2 = 0.999;      ///< Adam second-moment decay
    double rho = 0.9;          ///< RMSprop decay (Keras default)
    double epsilon = 1e-7;     ///< Keras default
    double weight_decay = 0;   ///< decoupled (AdamW style): p -= lr * wd * p
    double clip_norm = 0;      ///< > 0: rescale the gradient to this global L2 norm (seed)
    double clip_value = 0;     ///< > 0: clamp each gradient entry to [-v, v] (DCA uses 5)
};

OptimizerKind parse_optimizer_kind(const std::string& s);
std::string to_string(OptimizerKind k);

template <typename T>
struct OptimizerState {
    Vec<T> m, v;  ///< moments (RMSprop uses v only)
    long step = 0;
    void reset(Eigen::Index n) {
        m = Vec<T>::Zero(n);
        v = Vec<T>::Zero(n);
        step = 0;
    }
};

// The update loops as functions of their own over restrict pointers and copied scalars: inlined
// into optimizer_step as lambdas, GCC vectorized them in one build and not in the next (25% of
// a 1-thread epoch when it did not).
template <typename T>
void adam_update(T* __restrict m, T* __restrict v, T* __restrict p, const T* __restrict g, Eigen::Index i0,
                 Eigen::Index i1, T b1, T b2, T step, T eps_hat) {
#pragma omp simd
    for (Eigen::Index i = i0; i < i1; ++i) {
        m[i] = b1 * m[i] + (T(1) - b1) * g[i];
        v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (std::sqrt(v[i]) + eps_hat);
    }
}

// Sum of squares as a plain loop: Eigen's norm() runs scalar in wasm (no SIMD kernels there;
// it was ~40% of the optimizer step's own time in a wasm profile). Float partial sums per lane
// round far below what norm clipping looks at; an overflow gives inf, read as divergence, as
// Eigen's float norm() did.
template <typename T>
T sum_squares(const T* __restrict g, Eigen::Index i0, Eigen::Index i1) {
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (Eigen::Index i = i0; i < i1; ++i) s += g[i] * g[i];
    return s;
}

template <typename T>
void rmsprop_update(T* __restrict v, T* __restrict p, const T* __restrict g, Eigen::Index i0, Eigen::Index i1, T rho,
                    T rate, T eps) {
#pragma omp simd
    for (Eigen::Index i = i0; i < i1; ++i) {
        v[i] = rho * v[i] + (T(1) - rho) * g[i] * g[i];
        p[i] -= rate * g[i] / (std::sqrt(v[i]) + eps);
    }
}

/// Clips `grad` as the options say, then updates `params` in place with learning rate `lr`
/// (the trainer's current rate, which may have been reduced). Allocates nothing once the state
/// is sized. Returns the gradient's global norm before clipping; when that norm is not finite
/// (a NaN or infinite entry, or squares overflowing) nothing is updated, and the caller treats it
/// as divergence. The norm doubles as the finiteness check: a separate allFinite() pass was a
/// scalar loop costing as much as the update itself.
template <typename T>
double optimizer_step(const OptimizerOptions& o, OptimizerState<T>& s, Eigen::Ref<Vec<T>> params,
                      Eigen::Ref<Vec<T>> grad, double lr, ThreadPool* pool = nullptr, int threads = 1) {
    if (s.m.size() != params.size()) s.reset(params.size());
    // Split like the update, partial sums added in part order (so a thread count always gives
    // the same norm): on one thread this pass was a serial stretch of every batch.
    constexpr int kMaxParts = 16;
    T partial[kMaxParts] = {};
    parallel_parts(pool, std::min(threads, kMaxParts), grad.size(), [&](int t, Eigen::Index i0, Eigen::Index i1) {
        partial[t] = sum_squares(grad.data(), i0, i1);
    });
    T squares = 0;
    for (T p : partial) squares += p;
    const double norm = std::sqrt(static_cast<double>(squares));
    if (!std::isfinite(norm)) return norm;
    if (o.clip_norm > 0 && norm > o.clip_norm) grad *= T(o.clip_norm / norm);
    if (o.clip_value > 0) grad = grad.cwiseMax(T(-o.clip_value)).cwiseMin(T(o.clip_value));
    ++s.step;
    if (o.weight_decay > 0) params *= T(1.0 - lr * o.weight_decay);
    if (o.kind == OptimizerKind::adam) {
        const T b1 = T(o.beta1), b2 = T(o.beta2);
        // Bias corrections folded into the step size (Kingma & Ba, Algorithm 1 last lines).
        const double c1 = 1.0 - std::pow(o.beta1, static_cast<double>(s.step));
        const double c2 = 1.0 - std::pow(o.beta2, static_cast<double>(s.step));
        const T step = T(lr * std::sqrt(c2) / c1), eps_hat = T(o.epsilon * std::sqrt(c2));
        // Plain loops over raw pointers: compilers vectorize them everywhere, including wasm,
        // where Eigen has no SIMD kernels and this update was 1/8 of an epoch. `omp simd` and
        // -fno-math-errno (CMakeLists.txt): without them GCC kept std::sqrt scalar for errno.
        T* m = s.m.data();
        T* v = s.v.data();
        T* p = params.data();
        const T* g = grad.data();
        parallel_ranges(pool, threads, params.size(), [&](Eigen::Index i0, Eigen::Index i1) {
            adam_update(m, v, p, g, i0, i1, b1, b2, step, eps_hat);
        });
    } else {
        const T rho = T(o.rho), eps = T(o.epsilon), rate = T(lr);
        T* v = s.v.data();
        T* p = params.data();
        const T* g = grad.data();
        parallel_ranges(pool, threads, params.size(), [&](Eigen::Index i0, Eigen::Index i1) {
            rmsprop_update(v, p, g, i0, i1, rho, rate, eps);
        });
    }
    return norm;
}

}  // namespace zimpute
