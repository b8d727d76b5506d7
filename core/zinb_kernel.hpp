// The training hot path: for one cell, the head activations (head_activations.hpp), the ZINB
// loss and its gradient w.r.t. the heads' pre-activations, as short branch-free loops that
// compilers vectorize (AVX natively, SIMD128 in wasm): activations and the zero case over all
// genes, the non-zero cases over the cell's non-zero counts only (count_batch.hpp).
// zinb_loss.hpp holds the scalar reference (zinb_element) these loops must agree with;
// tests/zinb_kernel_test.cpp and tests/network_test.cpp check that they do, and check the
// gradients against finite differences. Used by ZinbHead::loss_and_gradient.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "count_batch.hpp"
#include "fast_math.hpp"
#include "head_activations.hpp"
#include "layers.hpp"
#include "special.hpp"
#include "zinb_loss.hpp"

namespace zimpute::kernel {

// One cell (column) for the loss kernel: the heads' pre-activations in, their activations, the
// per-element loss and the gradients w.r.t. the pre-activations out (genes entries each).
// pre_pi and pi are read and written with zero inflation only, pre_theta and theta with a theta
// head (cell-gene dispersion) only.
template <typename T>
struct Column {
    const T *pre_mu, *pre_pi, *pre_theta;
    T size_factor;  // mu = size_factor * clamp(exp(pre_mu)); 1 without size factors
    T *mu, *pi, *theta;
    T *g_mu, *g_pi, *g_theta, *loss;
};

// Theta-only terms per gene (per-gene dispersion), structure of arrays for vector loads, and
// the heads' bounds (a pre-activation beyond them gets no gradient).
template <typename T>
struct GeneTerms {
    const T *theta = nullptr, *scale = nullptr, *lg = nullptr, *dg = nullptr, *log_te = nullptr, *slope = nullptr;
    HeadBounds<T> bounds = head_bounds<T>(true);
};

// The loss caps theta at kThetaMax, with no gradient through the cap (scale 0). Checked = false
// only under bounded heads, where theta <= kThetaHeadMax: the cap is then never active, and the
// unchecked passes skip it.
static_assert(kThetaHeadMax < kThetaMax, "bounded theta must stay below the loss's cap");
template <bool Checked, typename T>
ZIMPUTE_ALWAYS_INLINE T capped_theta(T th) { return Checked && th > T(kThetaMax) ? T(kThetaMax) : th; }
template <bool Checked, typename T>
ZIMPUTE_ALWAYS_INLINE T theta_scale(T th) { return Checked && th > T(kThetaMax) ? T(0) : T(1); }

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

// Per-thread scratch, genes wide, sized once: the zero pass's intermediates for every gene of
// the cell at hand (theta's slope is read back for the non-zero counts too, instead of being
// recomputed), and the head values of the cell's non-zero entries packed contiguously, so the
// y > 0 cases run as dense vectorizable loops over those entries only.
template <typename T>
struct Packed {
    std::vector<T> slope_all, base_all, log_base_all, z_all;
    std::vector<T> mu, pi, theta, slope, pre_mu, lg_diff, dg_diff, log_ratio, loss, gm, gth, gp;
    void resize(Eigen::Index n) {
        for (auto* v : {&slope_all, &base_all, &log_base_all, &z_all, &mu, &pi, &theta, &slope, &pre_mu, &lg_diff, &dg_diff,
                        &log_ratio, &loss, &gm, &gth, &gp})
            v->resize(static_cast<std::size_t>(n));
    }
};

// The zero-inflated y = 0 case, L = -log(pi + (1-pi) z + eps) with z = (theta/(theta+mu+eps))^theta
// (zinb_loss.hpp, whose zinb_element the tests hold this to; theta capped at 1e6), in two loops:
// z and its parts first, then the loss and the gradients.
template <typename T, bool PerGene, bool Checked>
ZIMPUTE_NOINLINE void zero_z(const T* __restrict th, const T* __restrict mu, const T* __restrict gene_theta, T* __restrict base,
                             T* __restrict log_base, T* __restrict zs, Eigen::Index n) {
    const T eps = T(kLossEps);
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) {
        const T theta = PerGene ? gene_theta[i] : capped_theta<Checked>(th[i]);
        const T b = theta / (theta + eps + mu[i]);
        base[i] = b;
        log_base[i] = flog<Checked>(b);
    }
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) {
        const T theta = PerGene ? gene_theta[i] : capped_theta<Checked>(th[i]);
        zs[i] = fexp<Checked>(theta * log_base[i]);
    }
}
template <typename T, bool PerGene, bool Checked>
ZIMPUTE_NOINLINE void zero_loss(const Column<T>& c, const GeneTerms<T>& gt, const Packed<T>& pk, Eigen::Index n, T ridge) {
    const T eps = T(kLossEps);
    const HeadBounds<T> hb = gt.bounds;
    const T* __restrict pm = c.pre_mu;
    const T* __restrict mu = c.mu;
    const T* __restrict pi = c.pi;
    const T* __restrict th = c.theta;
    const T* __restrict slope = PerGene ? gt.slope : pk.slope_all.data();
    const T* __restrict base = pk.base_all.data();
    const T* __restrict log_base = pk.log_base_all.data();
    const T* __restrict zs = pk.z_all.data();
    T* __restrict loss = c.loss;
    T* __restrict gmu = c.g_mu;
    T* __restrict gth = c.g_theta;
    T* __restrict gpi = c.g_pi;
    // The loss, then the gradients (d recomputed): two loops, for the same reason as zero_pass's.
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) {
        const T p = pi[i];
        loss[i] = -flog<Checked>(p + (T(1) - p) * zs[i] + eps) + ridge * p * p;
    }
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) {
        const T p = pi[i], z = zs[i], b = base[i];
        const T scale = PerGene ? gt.scale[i] : theta_scale<Checked>(th[i]);
        const T inv_d = T(1) / (p + (T(1) - p) * z + eps);
        const T dz = -(T(1) - p) * inv_d;
        const T dmu = dz * (-z * b);
        const T dth = scale * dz * z * (log_base[i] + T(1) - b);
        const T dpi = -(T(1) - z) * inv_d + T(2) * ridge * p;
        gmu[i] = mu_chain(pm[i], dmu, mu[i], hb);
        gth[i] = dth * slope[i];
        gpi[i] = dpi * p * (T(1) - p);
    }
}

// Without zero inflation y = 0 is the negative binomial's case (its lgamma and y terms vanish
// exactly): L = theta log((theta+eps+mu)/(theta+eps)).
template <typename T, bool PerGene, bool Checked>
ZIMPUTE_NOINLINE void zero_loss_nb(const Column<T>& c, const GeneTerms<T>& gt, const Packed<T>& pk, Eigen::Index n) {
    const T eps = T(kLossEps);
    const HeadBounds<T> hb = gt.bounds;
    const T* __restrict pm = c.pre_mu;
    const T* __restrict mu = c.mu;
    const T* __restrict th = c.theta;
    const T* __restrict slope = PerGene ? gt.slope : pk.slope_all.data();
    T* __restrict loss = c.loss;
    T* __restrict gmu = c.g_mu;
    T* __restrict gth = c.g_theta;
#pragma omp simd
    for (Eigen::Index i = 0; i < n; ++i) {
        const T theta = PerGene ? gt.theta[i] : capped_theta<Checked>(th[i]);
        const T scale = PerGene ? gt.scale[i] : theta_scale<Checked>(th[i]);
        const T te = theta + eps, tme = te + mu[i], log_ratio = flog<Checked>(tme / te);
        loss[i] = theta * log_ratio;
        gmu[i] = mu_chain(pm[i], theta / tme, mu[i], hb);
        gth[i] = scale * (log_ratio - theta * mu[i] / (te * tme)) * slope[i];
    }
}

// Every gene of a cell: the head activations (written to c.mu, c.pi, c.theta) and the y = 0
// case of the loss (no lgamma or digamma: most counts are zero; the non-zero ones are
// overwritten afterwards). As several short loops through L1-resident scratch, not one: one loop
// of the whole chain (four exp, three log, five divisions per element) was too long for the
// out-of-order window to overlap iterations, and had more live values than registers. It ran at
// 1.6x the time natively and 1.4x in wasm, where V8 spilled most of it.
template <typename T, bool PerGene, bool ZeroInflated, bool Softplus, bool Checked>
void zero_pass(const Column<T>& c, const GeneTerms<T>& gt, Eigen::Index genes, T ridge, Packed<T>& pk) {
    activate_mu<Checked>(c.pre_mu, c.mu, genes, c.size_factor, gt.bounds);
    if (!PerGene) activate_theta<Checked, Softplus>(c.pre_theta, c.theta, pk.slope_all.data(), genes, gt.bounds);
    if (!ZeroInflated) return zero_loss_nb<T, PerGene, Checked>(c, gt, pk, genes);
    activate_pi<Checked>(c.pre_pi, c.pi, genes);
    zero_z<T, PerGene, Checked>(c.theta, c.mu, gt.theta, pk.base_all.data(), pk.log_base_all.data(), pk.z_all.data(), genes);
    zero_loss<T, PerGene, Checked>(c, gt, pk, genes, ridge);
}

// The y > 0 cases over the cell's packed non-zero entries (count_batch.hpp), in short loops like
// zero_pass's: lg_diff = lgamma(y + te) - lgamma(te) and dg_diff, the same for digamma
// (te = theta + eps), for the small whole counts by small_count_terms and for the others by
// lgamma_digamma twice; then the loss and the gradients for all of them. Formulas:
// zinb_element in zinb_loss.hpp. Per-gene terms are read through nz.gene (a gather).
template <typename T, bool PerGene, bool Checked>
ZIMPUTE_ALWAYS_INLINE T packed_theta(const NonZeros<T>& nz, const Packed<T>& pk, const GeneTerms<T>& gt, Eigen::Index k) {
    return PerGene ? gt.theta[nz.gene[k]] : capped_theta<Checked>(pk.theta[static_cast<std::size_t>(k)]);
}

template <typename T, bool PerGene, bool Checked>
ZIMPUTE_NOINLINE void count_terms(const NonZeros<T>& nz, Packed<T>& pk, const GeneTerms<T>& gt) {
    const T eps = T(kLossEps);
    const T* __restrict y = nz.y;
    T* __restrict lgd = pk.lg_diff.data();
    T* __restrict dgd = pk.dg_diff.data();
#pragma omp simd
    for (Eigen::Index k = 0; k < nz.n_small; ++k)
        small_count_terms<T, Checked>(y[k], packed_theta<T, PerGene, Checked>(nz, pk, gt, k) + eps, lgd[k], dgd[k]);
    // lgamma and digamma at y + te, and at te (per gene: computed once per batch)
#pragma omp simd
    for (Eigen::Index k = nz.n_small; k < nz.n; ++k) {
        const T te = packed_theta<T, PerGene, Checked>(nz, pk, gt, k) + eps;
        T lg_t, dg_t, lg, dg;
        if (PerGene) lg_t = gt.lg[nz.gene[k]], dg_t = gt.dg[nz.gene[k]];
        else lgamma_digamma<Checked>(te, lg_t, dg_t);
        lgamma_digamma<Checked>(y[k] + te, lg, dg);
        lgd[k] = lg - lg_t;
        dgd[k] = dg - dg_t;
    }
}

// L = lgamma(y+1) - lg_diff + (theta+y) log(1 + mu/te) + y (log te - log(mu+eps)) - log(1-pi+eps)
// + ridge pi^2 (the pi terms with zero inflation only), then its gradients.
template <typename T, bool PerGene, bool ZeroInflated, bool Checked>
ZIMPUTE_NOINLINE void nonzero_loss(const NonZeros<T>& nz, Packed<T>& pk, const GeneTerms<T>& gt, T ridge) {
    const T eps = T(kLossEps);
    const HeadBounds<T> hb = gt.bounds;
    const T* __restrict y = nz.y;
    const T* __restrict lgy1 = nz.lgy1;
    const T* __restrict mu = pk.mu.data();
    const T* __restrict pi = pk.pi.data();
    const T* __restrict pm = pk.pre_mu.data();
    const T* __restrict lgd = pk.lg_diff.data();
    const T* __restrict dgd = pk.dg_diff.data();
    T* __restrict log_ratio = pk.log_ratio.data();
    T* __restrict loss = pk.loss.data();
    T* __restrict gmo = pk.gm.data();
    T* __restrict gto = pk.gth.data();
    T* __restrict gpo = pk.gp.data();
#pragma omp simd
    for (Eigen::Index k = 0; k < nz.n; ++k) {
        const T theta = packed_theta<T, PerGene, Checked>(nz, pk, gt, k), te = theta + eps;
        const T lr = flog<Checked>((te + mu[k]) / te);
        const T log_te = PerGene ? gt.log_te[nz.gene[k]] : flog<Checked>(te);
        T l = lgy1[k] - lgd[k] + (theta + y[k]) * lr + y[k] * (log_te - flog<Checked>(mu[k] + eps));
        if (ZeroInflated) l += ridge * pi[k] * pi[k] - flog<Checked>(T(1) - pi[k] + eps);
        loss[k] = l;
        log_ratio[k] = lr;
    }
#pragma omp simd
    for (Eigen::Index k = 0; k < nz.n; ++k) {
        const T theta = packed_theta<T, PerGene, Checked>(nz, pk, gt, k), te = theta + eps, tme = te + mu[k];
        const T scale = PerGene ? gt.scale[nz.gene[k]] : theta_scale<Checked>(pk.theta[static_cast<std::size_t>(k)]);
        const T slope = PerGene ? gt.slope[nz.gene[k]] : pk.slope[static_cast<std::size_t>(k)];
        const T dmu = (theta + y[k]) / tme - y[k] / (mu[k] + eps);
        const T dth = scale * (log_ratio[k] - dgd[k] - (theta + y[k]) * mu[k] / (te * tme) + y[k] / te);
        gmo[k] = mu_chain(pm[k], dmu, mu[k], hb);
        gto[k] = dth * slope;
        if (ZeroInflated) {
            const T p = pi[k];
            gpo[k] = (T(1) / (T(1) - p + eps) + T(2) * ridge * p) * p * (T(1) - p);
        }
    }
}

// One cell's loss: the sum over the elements counted, and how many were counted.
struct CellLoss {
    double sum = 0;
    Eigen::Index used = 0;
};

// The guarded loss: elements whose loss or gradient is not finite leave the sum and get zero
// gradient (their c.loss is zeroed too). Written so GCC vectorizes it: unconditional stores of
// selects, an integer count, and the float sum in a loop of its own; with a float count and
// conditional stores in one `omp simd reduction` loop it stayed scalar (3% of a native epoch).
template <typename T, bool ZeroInflated>
CellLoss guard_column(const Column<T>& c, Eigen::Index genes) {
    const T big = std::numeric_limits<T>::max();
    T* __restrict loss = c.loss;
    T* __restrict gmu = c.g_mu;
    T* __restrict gth = c.g_theta;
    T* __restrict gpi = c.g_pi;
    Eigen::Index counted = 0;
    for (Eigen::Index i = 0; i < genes; ++i) {
        const T l = loss[i], gm = gmu[i], gt = gth[i];
        const T gp = ZeroInflated ? gpi[i] : T(0);
        // |x| <= max is false for NaN and infinity; compares joined with & (&& would branch)
        const bool ok = (std::fabs(l) <= big) & (std::fabs(gm) <= big) & (std::fabs(gt) <= big) & (std::fabs(gp) <= big);
        counted += ok;
        loss[i] = ok ? l : T(0);
        gmu[i] = ok ? gm : T(0);
        gth[i] = ok ? gt : T(0);
        if constexpr (ZeroInflated) gpi[i] = ok ? gp : T(0);
    }
    T total = 0;
#pragma omp simd reduction(+ : total)
    for (Eigen::Index i = 0; i < genes; ++i) total += loss[i];
    return CellLoss{static_cast<double>(total), counted};
}

// Loss of one cell and the gradient w.r.t. every head pre-activation, with the head activations,
// in passes: zero_pass for every gene; then the y > 0 cases for the cell's non-zero counts only,
// packed contiguously and scattered back (small whole counts by small_count_terms, the rest with
// lgamma_digamma); then the sum, guarded or not. Writes each element's loss to c.loss. The
// activations are computed here, per cell, so the passes find them in L1, and theta's slope
// shares exp(p) with theta.
template <typename T, bool PerGene, bool ZeroInflated, bool Softplus, bool Checked>
CellLoss loss_kernel(const Column<T>& c, const NonZeros<T>& nz, const GeneTerms<T>& gt, Eigen::Index genes, T ridge,
                     bool guarded, Packed<T>& pk) {
    zero_pass<T, PerGene, ZeroInflated, Softplus, Checked>(c, gt, genes, ridge, pk);
    const T* slope_all = pk.slope_all.data();
    const Eigen::Index n = nz.n;
    for (Eigen::Index k = 0; k < n; ++k) {
        const auto i = nz.gene[k];
        pk.mu[k] = c.mu[i];
        pk.pi[k] = ZeroInflated ? c.pi[i] : T(0);
        pk.pre_mu[k] = c.pre_mu[i];
        if (!PerGene) pk.theta[k] = c.theta[i], pk.slope[k] = slope_all[i];
    }
    count_terms<T, PerGene, Checked>(nz, pk, gt);
    nonzero_loss<T, PerGene, ZeroInflated, Checked>(nz, pk, gt, ridge);
    for (Eigen::Index k = 0; k < n; ++k) {
        const auto i = nz.gene[k];
        c.loss[i] = pk.loss[k];
        c.g_mu[i] = pk.gm[k];
        c.g_theta[i] = pk.gth[k];
        if (ZeroInflated) c.g_pi[i] = pk.gp[k];
    }
    if (guarded) return guard_column<T, ZeroInflated>(c, genes);
    T total = 0;
#pragma omp simd reduction(+ : total)
    for (Eigen::Index i = 0; i < genes; ++i) total += c.loss[i];
    return CellLoss{static_cast<double>(total), genes};
}

// The kernel for these settings. checked = false (the unchecked log and exp) is honoured in
// float only; callers pass it only under bounded heads and finite pre-activations (the dispatch
// is in ZinbHead::loss_and_gradient), where every log argument is a positive normal float.
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
