// Branch-free log and exp that compilers vectorize (AVX/AVX-512 natively, SIMD128 in wasm).
//
// Why: the ZINB loss pass evaluates ~8 logarithms and exponentials per matrix element; libm's
// scalar calls dominated an epoch, and wasm has no vectorized libm at all. These are the Cephes
// single-precision polynomials (as in Eigen's plog/pexp) on plain arithmetic and bit casts, so a
// loop of them vectorizes. Accuracy, tested in tests/fast_math_test.cpp against std:: over the
// normal float range: relative error below 3e-7 (log: absolute 1e-7 near 1). Special values
// follow std::: log(0) = -inf, log(x < 0) = NaN, NaN and +inf propagate, exp overflows to +inf
// and underflows to 0. The double overloads are std:: so gradient checks in double stay exact.
//
// The *_unchecked forms skip that special-value handling (its compares and selects were ~10% of
// a 1-thread wasm epoch): fast_log_unchecked is only meaningful for positive normal x (zero,
// negative, infinite or NaN x give an unspecified finite value); fast_exp_unchecked clamps x to
// [-87.34, 88.38] (so -inf and underflow give ~1.2e-38, +inf and overflow ~2.4e38, never 0 or
// inf), and a NaN x gives an unspecified value. Callers use them only where their arguments are
// proven in range (the loss kernel under bounded heads with finite inputs: zinb_kernel.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

// Inlined even where a compiler's cost model says no (clang for wasm): a call inside the loss
// kernel's loop stops it vectorizing.
#define ZIMPUTE_ALWAYS_INLINE inline __attribute__((always_inline))
// Kept out of line: a loop of its own is easier on V8's register allocator than one inlined into
// a large function, and shows up by name in profiles.
#define ZIMPUTE_NOINLINE __attribute__((noinline))

namespace zimpute {

inline std::int32_t float_bits(float x) {
    std::int32_t i;
    std::memcpy(&i, &x, sizeof i);
    return i;
}
inline float bits_float(std::int32_t i) {
    float x;
    std::memcpy(&x, &i, sizeof x);
    return x;
}

ZIMPUTE_ALWAYS_INLINE float fast_log_unchecked(float x) {
    const std::int32_t bits = float_bits(x);
    // x = m * 2^e with m in [0.5, 1); then m in [sqrt(1/2), sqrt(2)) by moving one factor of 2.
    float e = static_cast<float>(((bits >> 23) & 0xff) - 126);
    float m = bits_float((bits & 0x007fffff) | 0x3f000000);
    const bool low = m < 0.707106781186547524f;
    e = low ? e - 1.0f : e;
    m = low ? m + m - 1.0f : m - 1.0f;
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    return m + y + 0.693359375f * e;
}

ZIMPUTE_ALWAYS_INLINE float fast_log(float x) {
    float r = fast_log_unchecked(x);
    // Special values, as selects so the loop stays branch-free.
    r = x == std::numeric_limits<float>::infinity() ? x : r;
    r = x > 0.0f ? r : (x == 0.0f ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN());
    r = x != x ? x : r;
    return r;
}

// x clamped to [lo, hi]. Checked: a NaN x stays NaN; clang turns these selects into wasm's
// f32x4.min/max, which V8 lowers to 8 instructions each. Unchecked, for x not NaN (a NaN gives
// hi): forms clang turns into f32x4.pmin (one instruction) and a compare and bitselect (four);
// natively minps and maxps.
template <bool Checked, typename T>
ZIMPUTE_ALWAYS_INLINE T clamp(T x, T lo, T hi) {
    if (Checked) return x < lo ? lo : (x > hi ? hi : x);
    const T y = x < hi ? x : hi;
    return y > lo ? y : lo;
}

ZIMPUTE_ALWAYS_INLINE float fast_exp_unchecked(float x) {
    const float clamped = clamp<false>(x, -87.3365447504f, 88.3762626647949f);
    // x = n ln2 + r, |r| <= ln2/2; exp(r) by a degree-6 polynomial; 2^n through the exponent bits.
    // t = x log2(e) + 1.5 * 2^23 + 127 rounds to a whole number (exactly, for |x| < 2^21),
    // n + 127 + 1.5 * 2^23, whose low mantissa bits are n + 127: shifted up by 23 they are 2^n's
    // bits. (std::floor blocked GCC's vectorizer; a float-to-int conversion is 5 instructions
    // in V8's wasm.)
    const float t = clamped * 1.44269504088896341f + 12583039.0f;
    const float n = t - 12583039.0f;
    float r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    return p * bits_float(static_cast<std::int32_t>(static_cast<std::uint32_t>(float_bits(t)) << 23));
}

ZIMPUTE_ALWAYS_INLINE float fast_exp(float x) {
    float out = fast_exp_unchecked(x);
    out = x > 88.7228391f ? std::numeric_limits<float>::infinity() : out;
    out = x < -87.3365447504f ? 0.0f : out;
    out = x != x ? x : out;
    return out;
}

// The checked or the unchecked form, chosen at compile time (Checked = false only where the
// arguments are proven in range, see above). Double is always std::.
template <bool Checked>
ZIMPUTE_ALWAYS_INLINE float flog(float x) { return Checked ? fast_log(x) : fast_log_unchecked(x); }
template <bool Checked>
ZIMPUTE_ALWAYS_INLINE float fexp(float x) { return Checked ? fast_exp(x) : fast_exp_unchecked(x); }

template <bool Checked>
inline double flog(double x) { return std::log(x); }
template <bool Checked>
inline double fexp(double x) { return std::exp(x); }

/// log(1 + x) from fast_log without losing small x: log(w) x / (w - 1) with w = 1 + x rounded
/// (the rounding error of w cancels). Branch-free, so loops of it vectorize. Unchecked: for
/// x >= 0 or NaN (then w >= 1 is a normal float).
template <bool Checked>
ZIMPUTE_ALWAYS_INLINE float flog1p(float x) {
    const float w = 1.0f + x;
    // x / (w - 1) first: ~1, where log(w) * x overflowed for x > ~4e36
    return w == 1.0f ? x : flog<Checked>(w) * (x / (w - 1.0f));
}
template <bool Checked>
inline double flog1p(double x) { return std::log1p(x); }
ZIMPUTE_ALWAYS_INLINE float fast_log1p(float x) { return flog1p<true>(x); }

inline double fast_log(double x) { return std::log(x); }
inline double fast_exp(double x) { return std::exp(x); }
inline double fast_log1p(double x) { return std::log1p(x); }

// Whether x[0..n) are all finite: x * 0 is 0 for finite x and NaN for inf and NaN, and the sum
// is a reduction compilers vectorize (a loop with an early exit is not; nor is Eigen's
// allFinite() in wasm, where Eigen has no SIMD).
template <typename T>
bool all_finite(const T* x, std::ptrdiff_t n) {
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (std::ptrdiff_t i = 0; i < n; ++i) acc += x[i] * T(0);
    return acc == T(0);
}

}  // namespace zimpute
