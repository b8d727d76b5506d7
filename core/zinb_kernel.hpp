// The training hot path: the ZINB loss and its gradient w.r.t. the heads' pre-activations for
// one cell, fused with the heads' activation derivatives, as branch-free loops that compilers
// vectorize (AVX natively, SIMD128 in wasm): the zero case over all genes, the non-zero cases
// over the cell's non-zero counts only. zinb_loss.hpp holds the scalar reference
// (zinb_element) these loops must agree with; tests/network_test.cpp checks that they do, and
// checks the gradients against finite differences. Used by Network::loss_and_head_gradient.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

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

// Theta-only terms per gene (per-gene dispersion), structure of arrays for vector loads, and
// the heads' bounds (a pre-activation beyond them gets no gradient).
template <typename T>
struct GeneTerms {
    const T *theta = nullptr, *scale = nullptr, *lg = nullptr, *dg = nullptr, *log_te = nullptr, *slope = nullptr;
    HeadBounds<T> bounds = head_bounds<T>(true);
};

// Which counts a pass handles: y = 0; y a whole number 1..kSmallCount; any y > 0.
enum class Case { zero, small, general };
constexpr int kSmallCount = 6;

// lgamma(y + t) - lgamma(t) and digamma(y + t) - digamma(t) for whole y in 1..kSmallCount, as
// log p and p'/p with p = t (t+1) ... (t+y-1): one log and one division instead of two lgamma
// and digamma evaluations (four logs, four divisions), and no cancellation between two large
// lgamma values when t is large. p stays below 3e38 for t <= 1e6 (kThetaMax). Unrolled by hand,
// branch-free: an inner loop or branch stops the caller's loop vectorizing.
template <typename T, bool Checked>
ZIMPUTE_ALWAYS_INLINE void small_count_terms(T y, T t, T& lg_diff, T& dg_diff) {
    T p = t, dp = T(1);  // k = 0: y >= 1 always
    auto step = [&](T k) {
        const bool on = k < y;
        const T f = t + k;
        dp = on ? dp * f + p : dp;
        p = on ? p * f : p;
    };
    step(T(1)), step(T(2)), step(T(3)), step(T(4)), step(T(5));
    static_assert(kSmallCount == 6, "unrolled for 6");
    lg_diff = flog<Checked>(p);
    dg_diff = dp / p;
}

// Loss and gradient w.r.t. the head pre-activations of one element, for one Case (y and lgy1
// are not read for Case::zero). Branch-free, always inlined into loops the compilers vectorize.
// Formulas and derivations: zinb_element in zinb_loss.hpp, which the tests check against finite
// differences. Checked = false uses the log and exp without special-value handling
// (fast_math.hpp): only for bounded heads and finite mu, pi, theta (the dispatch is in
// Network::loss_and_head_gradient), where every log argument below is a positive normal float.
template <typename T, bool PerGene, bool ZeroInflated, bool Softplus, Case C, bool Checked>
ZIMPUTE_ALWAYS_INLINE T element(T y, T lgy1, T mu, T pi, T th, T pre_mu, T pre_theta, const GeneTerms<T>& gt,
                                Eigen::Index g, T ridge, T& gm, T& gth, T& gp) {
    const T eps = T(kLossEps), cap = T(kThetaMax);
    const T log_mu_lo = gt.bounds.log_mu_lo, log_mu_hi = gt.bounds.log_mu_hi;
    const T th_lo = gt.bounds.th_lo, th_hi = gt.bounds.th_hi;
    constexpr bool NonZero = C != Case::zero;
    T theta, scale, slope;
    if (PerGene) {
        theta = gt.theta[g], scale = gt.scale[g], slope = gt.slope[g];
    } else {
        scale = th > cap ? T(0) : T(1);
        theta = th > cap ? cap : th;
        const T s = Softplus ? T(1) / (T(1) + fexp<Checked>(-pre_theta)) : th;
        slope = ((th <= th_lo) | (th >= th_hi)) ? T(0) : s;
    }
    const T te = theta + eps, tme = te + mu;
    T l, dmu, dth, dpi = T(0);
    if (NonZero || !ZeroInflated) {
        // Negative binomial part. For y = 0 without zero inflation the lgamma and y terms vanish
        // exactly (lgamma(0 + te) - lgamma(te) = 0), so only the non-zero cases compute them.
        const T log_ratio = flog<Checked>(tme / te);
        l = theta * log_ratio;
        dmu = theta / tme;
        dth = scale * (log_ratio - theta * mu / (te * tme));
        if (NonZero) {
            // lg_diff = lgamma(y + te) - lgamma(te), dg_diff the same for digamma
            T lg_diff, dg_diff;
            const T log_te = PerGene ? gt.log_te[g] : flog<Checked>(te);
            if (C == Case::small) {
                small_count_terms<T, Checked>(y, te, lg_diff, dg_diff);
            } else {
                T lg_t, dg_t, lg_ty, dg_ty;
                if (PerGene) lg_t = gt.lg[g], dg_t = gt.dg[g];
                else lgamma_digamma<Checked>(te, lg_t, dg_t);
                lgamma_digamma<Checked>(y + te, lg_ty, dg_ty);
                lg_diff = lg_ty - lg_t;
                dg_diff = dg_ty - dg_t;
            }
            l = lgy1 - lg_diff + (theta + y) * log_ratio + y * (log_te - flog<Checked>(mu + eps));
            dmu = (theta + y) / tme - y / (mu + eps);
            dth = scale * (log_ratio - dg_diff - (theta + y) * mu / (te * tme) + y / te);
        }
        if (ZeroInflated) {
            const T one_m_pi = T(1) - pi + eps;
            l -= flog<Checked>(one_m_pi);
            dpi = T(1) / one_m_pi;
        }
    } else {
        // y = 0: z = (theta/(theta+mu+eps))^theta, D = pi + (1-pi) z + eps, L = -log D
        const T base = theta / tme, log_base = flog<Checked>(base);
        const T z = fexp<Checked>(theta * log_base);
        const T d = pi + (T(1) - pi) * z + eps, inv_d = T(1) / d;
        const T dz = -(T(1) - pi) * inv_d;
        l = -flog<Checked>(d);
        dpi = -(T(1) - z) * inv_d;
        dmu = dz * (-z * base);
        dth = scale * dz * z * (log_base + T(1) - base);
    }
    if (ZeroInflated) {
        l += ridge * pi * pi;
        dpi += T(2) * ridge * pi;
    }
    gm = ((pre_mu < log_mu_lo) | (pre_mu > log_mu_hi)) ? T(0) : dmu * mu;
    gth = dth * slope;
    gp = dpi * pi * (T(1) - pi);
    return l;
}

// Scratch for one cell's non-zero entries packed contiguously (so the y > 0 cases run as dense
// vectorizable loops over them only): genes wide, sized once.
template <typename T>
struct Packed {
    std::vector<std::int32_t> idx;
    std::vector<T> y, lgy1, mu, pi, theta, pre_mu, pre_theta, loss, gm, gth, gp;
    void resize(Eigen::Index n) {
        const auto m = static_cast<std::size_t>(n);
        idx.resize(m);
        for (auto* v : {&y, &lgy1, &mu, &pi, &theta, &pre_mu, &pre_theta, &loss, &gm, &gth, &gp}) v->resize(m);
    }
};

// The y > 0 cases over packed entries [from, to).
template <typename T, bool PerGene, bool ZeroInflated, bool Softplus, Case C, bool Checked>
void nonzero_pass(Packed<T>& pk, const GeneTerms<T>& gt, Eigen::Index from, Eigen::Index to, T ridge) {
    if (PerGene) {
        // Per-gene terms are indexed by gene: this pass reads them through idx (a gather).
        for (Eigen::Index k = from; k < to; ++k) {
            const auto kk = static_cast<std::size_t>(k);
            T gm, gth, gp;
            pk.loss[kk] = element<T, true, ZeroInflated, Softplus, C, Checked>(pk.y[kk], pk.lgy1[kk], pk.mu[kk], pk.pi[kk], T(0),
                                                                     pk.pre_mu[kk], T(0), gt, pk.idx[kk], ridge, gm, gth, gp);
            pk.gm[kk] = gm, pk.gth[kk] = gth, pk.gp[kk] = gp;
        }
        return;
    }
    const T* y = pk.y.data();
    const T* lgy1 = pk.lgy1.data();
    const T* mu = pk.mu.data();
    const T* pi = pk.pi.data();
    const T* th = pk.theta.data();
    const T* pm = pk.pre_mu.data();
    const T* pt = pk.pre_theta.data();
    T* loss = pk.loss.data();
    T* gmo = pk.gm.data();
    T* gto = pk.gth.data();
    T* gpo = pk.gp.data();
#pragma omp simd
    for (Eigen::Index k = from; k < to; ++k) {
        T gm, gth, gp;
        loss[k] = element<T, false, ZeroInflated, Softplus, C, Checked>(y[k], lgy1[k], mu[k], pi[k], th[k], pm[k], pt[k], gt, 0, ridge,
                                                              gm, gth, gp);
        gmo[k] = gm, gto[k] = gth, gpo[k] = gp;
    }
}

// Loss of one cell and the gradient w.r.t. every head pre-activation, in passes: the y = 0 case
// for every gene (no lgamma or digamma: most counts are zero), then the y > 0 cases for the
// cell's non-zero counts only, packed contiguously and scattered back (small whole counts by
// small_count_terms, the rest with lgamma_digamma). Writes each element's loss to c.loss and
// returns their sum.
template <typename T, bool PerGene, bool ZeroInflated, bool Softplus, bool Checked>
double loss_kernel(const Column<T>& c, const GeneTerms<T>& gt, Eigen::Index genes, T ridge, Packed<T>& pk) {
    // omp simd (compile-time only, -fopenmp-simd): permits the masked evaluation that vectorizing
    // these loops needs.
#pragma omp simd
    for (Eigen::Index i = 0; i < genes; ++i) {
        T gm, gth, gp;
        c.loss[i] = element<T, PerGene, ZeroInflated, Softplus, Case::zero, Checked>(T(0), T(0), c.mu[i], ZeroInflated ? c.pi[i] : T(0),
                                                                           PerGene ? T(0) : c.theta[i], c.pre_mu[i],
                                                                           PerGene ? T(0) : c.pre_theta[i], gt, i, ridge, gm, gth, gp);
        c.g_mu[i] = gm;
        c.g_theta[i] = gth;
        if (ZeroInflated) c.g_pi[i] = gp;
    }
    // Non-zero counts, packed: small whole counts from the front, the rest from the back, then
    // moved down so [0, n) is contiguous.
    // Branch-free: each index is written to both ends and a slot is kept only where it belongs
    // (zeros are scattered at random, so a branch here mispredicts on every other gene; it cost
    // more than the passes save).
    Eigen::Index n_small = 0, back = genes;
    for (Eigen::Index i = 0; i < genes; ++i) {
        const T y = c.y[i];
        const bool nz = y >= T(1e-8);
        const bool small = nz & (y <= T(kSmallCount)) & (y == std::floor(y));
        pk.idx[static_cast<std::size_t>(n_small)] = static_cast<std::int32_t>(i);
        n_small += small;
        pk.idx[static_cast<std::size_t>(back - 1)] = static_cast<std::int32_t>(i);
        back -= nz & !small;
    }
    const Eigen::Index n_general = genes - back;
    for (Eigen::Index k = 0; k < n_general; ++k) pk.idx[static_cast<std::size_t>(n_small + k)] = pk.idx[static_cast<std::size_t>(back + k)];
    const Eigen::Index n = n_small + n_general;
    for (Eigen::Index k = 0; k < n; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const auto i = pk.idx[kk];
        pk.y[kk] = c.y[i], pk.lgy1[kk] = c.lgy1[i], pk.mu[kk] = c.mu[i];
        pk.pi[kk] = ZeroInflated ? c.pi[i] : T(0);
        pk.theta[kk] = PerGene ? T(0) : c.theta[i];
        pk.pre_mu[kk] = c.pre_mu[i];
        pk.pre_theta[kk] = PerGene ? T(0) : c.pre_theta[i];
    }
    nonzero_pass<T, PerGene, ZeroInflated, Softplus, Case::small, Checked>(pk, gt, 0, n_small, ridge);
    nonzero_pass<T, PerGene, ZeroInflated, Softplus, Case::general, Checked>(pk, gt, n_small, n, ridge);
    for (Eigen::Index k = 0; k < n; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const auto i = pk.idx[kk];
        c.loss[i] = pk.loss[kk];
        c.g_mu[i] = pk.gm[kk];
        c.g_theta[i] = pk.gth[kk];
        if (ZeroInflated) c.g_pi[i] = pk.gp[kk];
    }
    T total = 0;
#pragma omp simd reduction(+ : total)
    for (Eigen::Index i = 0; i < genes; ++i) total += c.loss[i];
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


// The kernel for these settings. checked = false (the unchecked log and exp) is honoured in
// float only; callers pass it only under the conditions stated at element().
template <typename T, bool PerGene>
auto pick(bool zero_inflated, bool softplus, bool checked = true) {
    // The Checked argument for checked == false: double has only the checked (std::) forms.
    constexpr bool kLean = !std::is_same<T, float>::value;
    if (!checked) {
        if (zero_inflated) return softplus ? &loss_kernel<T, PerGene, true, true, kLean> : &loss_kernel<T, PerGene, true, false, kLean>;
        return softplus ? &loss_kernel<T, PerGene, false, true, kLean> : &loss_kernel<T, PerGene, false, false, kLean>;
    }
    if (zero_inflated) return softplus ? &loss_kernel<T, PerGene, true, true, true> : &loss_kernel<T, PerGene, true, false, true>;
    return softplus ? &loss_kernel<T, PerGene, false, true, true> : &loss_kernel<T, PerGene, false, false, true>;
}

}  // namespace zimpute::kernel
