// Special functions for the ZINB loss: lgamma and digamma, computed together.
//
// Why not std::lgamma: it is slow (~40 ns), not vectorizable, and writes the global `signgam`.
// The loss needs lgamma(t) and digamma(t) at the same arguments, and both come cheaply from one
// recurrence shift and Stirling's series sharing log(x) and 1/x. Accuracy, tested in
// tests/special_test.cpp for x in [1e-6, 1e7]: absolute error below 5e-11 in double (the series
// is cut after the x^-7 term at x >= 8); in float (branch-free, fast_log) relative error below
// 2e-6 for lgamma away from its zeros at 1 and 2, and 2e-5 for digamma.
#pragma once

#include <cmath>

#include "fast_math.hpp"

namespace zimpute {

/// lgamma(x) and digamma(x) for x > 0 in double: exact enough for finite-difference checks.
/// (Checked only matters for float, see below.)
template <bool Checked = true>
inline void lgamma_digamma(double x, double& lg, double& dg) {
    // Shift x up to >= 8 with Gamma(x) = Gamma(x+n) / (x (x+1) ... (x+n-1)); the product p and
    // its derivative dp give the correction terms log(p) and dp/p.
    double p = 1, dp = 0;
    while (x < 8.0) {
        dp = dp * x + p;
        p *= x;
        x += 1.0;
    }
    const double inv = 1.0 / x, inv2 = inv * inv, lx = std::log(x);
    // Stirling: (x - 1/2) log x - x + log(2 pi)/2 + 1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7)
    lg = (x - 0.5) * lx - x + 0.91893853320467274178 +
         inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680))));
    // digamma(x) = log x - 1/(2x) - 1/(12x^2) + 1/(120x^4) - 1/(252x^6) + 1/(240x^8)
    dg = lx - 0.5 * inv - inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240))));
    if (p != 1.0) {
        lg -= std::log(p);
        dg -= dp / p;
    }
}

/// The same in float without branches, so a loop over it vectorizes: a lane with x < 8 is
/// shifted by 8 (its product stays below 3e8) and the correction selected. Lanes with x >= 8 may
/// overflow the unused product to inf/NaN; the select discards them. (Selecting the product's
/// base instead lets GCC fold a constant path and then refuse to vectorize.)
/// Checked = false: x must be a positive normal float (then every log argument is one too; the
/// product of a lane with x >= 8 may be inf, and its unspecified log is discarded by the select).
template <bool Checked = true>
ZIMPUTE_ALWAYS_INLINE void lgamma_digamma(float x, float& lg, float& dg) {
    const bool small = x < 8.0f;
    // p = x (x+1) ... (x+7) and dp = p', unrolled by hand: an inner loop stops GCC vectorizing
    // the caller's loop.
    float p = x, dp = 1.0f;
    dp = dp * (x + 1.0f) + p, p *= x + 1.0f;
    dp = dp * (x + 2.0f) + p, p *= x + 2.0f;
    dp = dp * (x + 3.0f) + p, p *= x + 3.0f;
    dp = dp * (x + 4.0f) + p, p *= x + 4.0f;
    dp = dp * (x + 5.0f) + p, p *= x + 5.0f;
    dp = dp * (x + 6.0f) + p, p *= x + 6.0f;
    dp = dp * (x + 7.0f) + p, p *= x + 7.0f;
    const float xs = x + (small ? 8.0f : 0.0f);
    const float inv = 1.0f / xs, inv2 = inv * inv, lx = flog<Checked>(xs);
    lg = (xs - 0.5f) * lx - xs + 0.918938533f + inv * (1.0f / 12 - inv2 * (1.0f / 360 - inv2 * (1.0f / 1260)));
    dg = lx - 0.5f * inv - inv2 * (1.0f / 12 - inv2 * (1.0f / 120 - inv2 * (1.0f / 252)));
    // Both computed unconditionally: GCC will not move a division under a condition.
    const float log_p = flog<Checked>(p), ratio = dp / p;
    lg -= small ? log_p : 0.0f;
    dg -= small ? ratio : 0.0f;
}

template <typename T>
inline T lgamma_fast(T x) {
    T lg, dg;
    lgamma_digamma(x, lg, dg);
    return lg;
}

template <typename T>
inline T digamma(T x) {
    T lg, dg;
    lgamma_digamma(x, lg, dg);
    return dg;
}

}  // namespace zimpute
