// Special functions for the ZINB loss: lgamma and digamma, computed together.
//
// Why not std::lgamma: it is slow (~40 ns), not vectorizable, and writes the global `signgam`.
// The loss needs lgamma(t) and digamma(t) at the same arguments, and both come cheaply from one
// recurrence shift and Stirling's series sharing log(x) and 1/x. Accuracy, tested in
// tests/special_test.cpp for x in [1e-6, 1e7]: absolute error below 5e-11 in double (the series
// is cut after the x^-7 term at x >= 8), relative error below 2e-6 in float.
#pragma once

#include <cmath>

namespace zimpute {

/// lgamma(x) and digamma(x) for x > 0, without branches on x beyond the shift count.
template <typename T>
inline void lgamma_digamma(T x, T& lg, T& dg) {
    // Shift x up to >= 8 with Gamma(x) = Gamma(x+n) / (x (x+1) ... (x+n-1)); the product and
    // the sum of reciprocals (its log-derivative) are carried as p and dp/p = q / p.
    T p = 1, dp = 0;
    while (x < T(8)) {
        dp = dp * x + p;
        p *= x;
        x += T(1);
    }
    const T inv = T(1) / x, inv2 = inv * inv;
    const T lx = std::log(x);
    // Stirling: lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + 1/(12x) - 1/(360x^3) + 1/(1260x^5)
    lg = (x - T(0.5)) * lx - x + T(0.91893853320467274178) +
         inv * (T(1) / T(12) - inv2 * (T(1) / T(360) - inv2 * (T(1) / T(1260) - inv2 * (T(1) / T(1680)))));
    // digamma(x) = log x - 1/(2x) - 1/(12x^2) + 1/(120x^4) - 1/(252x^6) + 1/(240x^8)
    dg = lx - T(0.5) * inv - inv2 * (T(1) / T(12) - inv2 * (T(1) / T(120) - inv2 * (T(1) / T(252) - inv2 * (T(1) / T(240)))));
    if (p != T(1)) {
        lg -= std::log(p);
        dg -= dp / p;
    }
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
