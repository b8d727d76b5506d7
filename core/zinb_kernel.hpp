// The training hot path: the ZINB loss and its gradient w.r.t. the heads' pre-activations for
// one cell, fused with the heads' activation derivatives, as branch-free loops over genes that
// compilers vectorize (AVX natively, SIMD128 in wasm). zinb_loss.hpp holds the scalar reference
// (zinb_element) these loops must agree with; tests/network_test.cpp checks that they do, and
// checks the gradients against finite differences. Used by Network::loss_and_head_gradient.
#pragma once

#include <cmath>
#include <limits>

#include "fast_math.hpp"
#include "layers.hpp"
#include "special.hpp"
#include "zinb_loss.hpp"

namespace zimpute::kernel {

// The pointers of one cell (column) for the loss kernel.
template <typename T>
struct Column {
    const T *y, *lgy1, *mu, *pi, *theta, *pre_mu, *pre_theta;
    T *g_mu, *g_pi, *g_theta, *loss;
};

// Theta-only terms per gene (per-gene dispersion), structure of arrays for vector loads.
template <typename T>
struct GeneTerms {
    const T *theta, *scale, *lg, *dg, *log_te, *slope;
};

// Loss of one cell and the gradient w.r.t. every head pre-activation, in one branch-free loop
// over genes so compilers vectorize it: both the zero and the non-zero case are evaluated and
// the right one selected. Formulas and their derivations: zinb_element in zinb_loss.hpp, which
// the tests check against finite differences; tests/network_test.cpp checks this kernel against
// the double-precision path. Writes each element's loss to c.loss and returns their sum.
template <typename T, bool PerGene, bool ZeroInflated, bool Softplus>
double loss_kernel(const Column<T>& c, const GeneTerms<T>& gt, Eigen::Index genes, T ridge) {
    const T eps = T(kLossEps), cap = T(kThetaMax);
    const T log_mu_lo = T(std::log(kMuMin)), log_mu_hi = T(std::log(kMuMax));
    const T th_lo = T(kThetaMin), th_hi = T(kThetaHeadMax);
    T total = 0;
    // omp simd (compile-time only, -fopenmp-simd): permits the reordered float sum and masked
    // evaluation that vectorizing this loop needs.
#pragma omp simd reduction(+ : total)
    for (Eigen::Index i = 0; i < genes; ++i) {
        const T y = c.y[i], mu = c.mu[i], pi = ZeroInflated ? c.pi[i] : T(0);
        T theta, scale, lg_t, dg_t, log_te, slope;
        if (PerGene) {
            theta = gt.theta[i], scale = gt.scale[i], lg_t = gt.lg[i], dg_t = gt.dg[i], log_te = gt.log_te[i];
            slope = gt.slope[i];
        } else {
            const T th = c.theta[i];
            scale = th > cap ? T(0) : T(1);
            theta = th > cap ? cap : th;
            lgamma_digamma(theta + eps, lg_t, dg_t);
            log_te = fast_log(theta + eps);
            const T p = c.pre_theta[i];
            const T s = Softplus ? T(1) / (T(1) + fast_exp(-p)) : th;
            slope = ((th <= th_lo) | (th >= th_hi)) ? T(0) : s;
        }
        const T te = theta + eps, tme = te + mu;
        // y > 0: negative binomial part
        T lg_ty, dg_ty;
        lgamma_digamma(y + te, lg_ty, dg_ty);
        const T log_ratio = fast_log(tme / te);
        T l_nz = lg_t + c.lgy1[i] - lg_ty + (theta + y) * log_ratio + y * (log_te - fast_log(mu + eps));
        const T dmu_nz = (theta + y) / tme - y / (mu + eps);
        const T dth_nz = scale * (dg_t - dg_ty + log_ratio - (theta + y) * mu / (te * tme) + y / te);
        T l = l_nz, dmu = dmu_nz, dth = dth_nz, dpi = T(0);
        if (ZeroInflated) {
            const T one_m_pi = T(1) - pi + eps;
            l_nz -= fast_log(one_m_pi);
            const T dpi_nz = T(1) / one_m_pi;
            // y = 0: z = (theta/(theta+mu+eps))^theta, D = pi + (1-pi) z + eps, L = -log D
            const T log_base = fast_log(theta / tme);
            const T z = fast_exp(theta * log_base);
            const T d = pi + (T(1) - pi) * z + eps;
            const T l_z = -fast_log(d);
            const T dz = -(T(1) - pi) / d;
            const bool zero = y < T(1e-8);
            l = zero ? l_z : l_nz;
            dpi = zero ? -(T(1) - z) / d : dpi_nz;
            dmu = zero ? dz * (-z * theta / tme) : dmu_nz;
            dth = zero ? scale * dz * z * (log_base + T(1) - theta / tme) : dth_nz;
            l += ridge * pi * pi;
            dpi += T(2) * ridge * pi;
        }
        const T pm = c.pre_mu[i];
        T gm = ((pm < log_mu_lo) | (pm > log_mu_hi)) ? T(0) : dmu * mu;
        T gth = dth * slope;
        T gp = dpi * pi * (T(1) - pi);
        total += l;
        c.loss[i] = l;
        c.g_mu[i] = gm;
        c.g_theta[i] = gth;
        if (ZeroInflated) c.g_pi[i] = gp;
    }
    return static_cast<double>(total);
}

// The guarded loss: elements whose loss or gradient is not finite leave the mean and get zero
// gradient. A separate simple loop, because inside the kernel's loop it stops GCC vectorizing.
// Returns the sum over finite elements and adds their number to `count`.
template <typename T>
double guard_column(const Column<T>& c, Eigen::Index genes, bool zero_inflated, Eigen::Index& count) {
    const T big = std::numeric_limits<T>::max();
    T total = 0, counted = 0;
#pragma omp simd reduction(+ : total, counted)
    for (Eigen::Index i = 0; i < genes; ++i) {
        const T gp = zero_inflated ? c.g_pi[i] : T(0);
        // |x| <= max is false for NaN and infinity; compares joined with & (&& would branch)
        const bool ok = (std::fabs(c.loss[i]) <= big) & (std::fabs(c.g_mu[i]) <= big) &
                        (std::fabs(c.g_theta[i]) <= big) & (std::fabs(gp) <= big);
        total += ok ? c.loss[i] : T(0);
        counted += ok ? T(1) : T(0);
        c.g_mu[i] = ok ? c.g_mu[i] : T(0);
        c.g_theta[i] = ok ? c.g_theta[i] : T(0);
        if (zero_inflated) c.g_pi[i] = ok ? gp : T(0);
    }
    count += static_cast<Eigen::Index>(counted);
    return static_cast<double>(total);
}


template <typename T, bool PerGene>
auto pick(bool zero_inflated, bool softplus) {
    if (zero_inflated) return softplus ? &loss_kernel<T, PerGene, true, true> : &loss_kernel<T, PerGene, true, false>;
    return softplus ? &loss_kernel<T, PerGene, false, true> : &loss_kernel<T, PerGene, false, false>;
}

}  // namespace zimpute::kernel
