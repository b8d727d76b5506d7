// Single-precision matrix products for the WebAssembly build, where Eigen 3.4 has no SIMD
// kernels (its GEMM ran scalar and took ~40% of an epoch). Written with GCC/clang vector
// extensions, so the same source compiles to wasm SIMD128 (and to SSE natively, where the tests
// compare it with Eigen). Column-major throughout; the network uses Eigen natively.
//
//   gemm_nn: C (m x n) = A (m x k) * B,  B(kk, j) at b[kk * bs_k + j * bs_n]
//            (B plain: bs_k = 1, bs_n = ldb; B transposed: bs_k = ldb, bs_n = 1)
//   gemm_tn: C (m x n) = A^T * B with A (k x m), B (k x n): dot products of columns
#pragma once

#include <cstddef>
#include <cstring>
#include <vector>

namespace zimpute {

namespace simd {
typedef float f4 __attribute__((vector_size(16)));
inline f4 load(const float* p) {
    f4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float* p, f4 v) { std::memcpy(p, &v, sizeof v); }
inline f4 splat(float x) { return f4{x, x, x, x}; }
inline float sum(f4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }
}  // namespace simd

// Per-thread scratch for packed operands: grows to the largest product once, then is reused
// (no allocation per batch). Each pool thread has its own.
inline float* gemm_scratch(std::size_t n) {
    static thread_local std::vector<float> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

namespace detail {
// C = A B for at most 64 columns (gemm_nn splits wider products into such panels). B is first
// packed in blocks of 4 columns, [p][4] contiguous and zero-padded, so the inner loop reads it at
// fixed offsets from one pointer and A by one pointer step: a form that recomputed p * lda and
// p * bs_k per step was bound, in V8's code, by those integer instructions, not by the SIMD
// arithmetic (24 -> ~30 GFLOP/s). Blocks of 8 rows x 4 columns of C stay in registers across k
// (8 accumulators + 2 A + 4 B of the 15 SIMD registers V8 allocates on x64).
inline void gemm_nn_panel(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a, std::ptrdiff_t lda,
                          const float* b, std::ptrdiff_t bs_k, std::ptrdiff_t bs_n, float* c, std::ptrdiff_t ldc) {
    using namespace simd;
    if (m <= 0 || n <= 0) return;
    const std::ptrdiff_t nb = (n + 3) / 4;
    // A long panel of 8 rows (the input layer: k = genes) is packed too, [p][8] contiguous: read
    // in place it spans k cache lines, more than L1 holds, for every block of columns.
    const bool pack_a = k >= 256 && nb > 1;
    float* packed = gemm_scratch(static_cast<std::size_t>(nb * k * 4 + (pack_a ? k * 8 : 0)));
    float* apanel = packed + nb * k * 4;
    for (std::ptrdiff_t jb = 0; jb < nb; ++jb) {
        float* dst = packed + jb * k * 4;
        for (std::ptrdiff_t q = 0; q < 4; ++q) {
            const std::ptrdiff_t j = jb * 4 + q;
            if (j < n)
                for (std::ptrdiff_t p = 0; p < k; ++p) dst[p * 4 + q] = b[p * bs_k + j * bs_n];
            else
                for (std::ptrdiff_t p = 0; p < k; ++p) dst[p * 4 + q] = 0.0f;
        }
    }
    std::ptrdiff_t i = 0;
    for (; i + 8 <= m; i += 8) {
        const float* abase = a + i;
        std::ptrdiff_t astep = lda;
        if (pack_a) {
            for (std::ptrdiff_t p = 0; p < k; ++p) {
                store(apanel + p * 8, load(a + i + p * lda));
                store(apanel + p * 8 + 4, load(a + i + 4 + p * lda));
            }
            abase = apanel;
            astep = 8;
        }
        for (std::ptrdiff_t jb = 0; jb < nb; ++jb) {
            f4 c00 = splat(0), c01 = splat(0), c02 = splat(0), c03 = splat(0);
            f4 c10 = splat(0), c11 = splat(0), c12 = splat(0), c13 = splat(0);
            const float* ap = abase;
            const float* bp = packed + jb * k * 4;
            for (std::ptrdiff_t p = 0; p < k; ++p, ap += astep, bp += 4) {
                const f4 a0 = load(ap), a1 = load(ap + 4);
                const f4 b0 = splat(bp[0]), b1 = splat(bp[1]), b2 = splat(bp[2]), b3 = splat(bp[3]);
                c00 += a0 * b0, c10 += a1 * b0;
                c01 += a0 * b1, c11 += a1 * b1;
                c02 += a0 * b2, c12 += a1 * b2;
                c03 += a0 * b3, c13 += a1 * b3;
            }
            const std::ptrdiff_t j = jb * 4;
            float* cj = c + i + j * ldc;
            store(cj, c00), store(cj + 4, c10);
            if (j + 1 < n) store(cj + ldc, c01), store(cj + ldc + 4, c11);
            if (j + 2 < n) store(cj + 2 * ldc, c02), store(cj + 2 * ldc + 4, c12);
            if (j + 3 < n) store(cj + 3 * ldc, c03), store(cj + 3 * ldc + 4, c13);
        }
    }
    for (; i < m; ++i)  // leftover rows
        for (std::ptrdiff_t j = 0; j < n; ++j) {
            const float* bp = packed + (j / 4) * k * 4 + j % 4;
            float s = 0;
            for (std::ptrdiff_t p = 0; p < k; ++p) s += a[i + p * lda] * bp[p * 4];
            c[i + j * ldc] = s;
        }
}

}  // namespace detail

/// C = A B (see above), in panels of at most 64 columns, so the packed copy of B stays small
/// (64 k floats) whatever the batch size; the network's batches (32-33 cells) are one panel.
inline void gemm_nn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a, std::ptrdiff_t lda,
                    const float* b, std::ptrdiff_t bs_k, std::ptrdiff_t bs_n, float* c, std::ptrdiff_t ldc) {
    constexpr std::ptrdiff_t kPanel = 64;
    for (std::ptrdiff_t j0 = 0; j0 < n; j0 += kPanel)
        detail::gemm_nn_panel(m, n - j0 < kPanel ? n - j0 : kPanel, k, a, lda, b + j0 * bs_n, bs_k, bs_n, c + j0 * ldc, ldc);
}

/// C = A^T B: C(i, j) = dot(A[:, i], B[:, j]) over k. Blocks of 4 x 2 dot products, vectorized
/// along k, so both operands are read contiguously.
inline void gemm_tn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a, std::ptrdiff_t lda,
                    const float* b, std::ptrdiff_t ldb, float* c, std::ptrdiff_t ldc) {
    using namespace simd;
    const std::ptrdiff_t k4 = k - k % 4;
    auto tail = [&](std::ptrdiff_t i, std::ptrdiff_t j) {
        float s = 0;
        for (std::ptrdiff_t p = k4; p < k; ++p) s += a[p + i * lda] * b[p + j * ldb];
        return s;
    };
    std::ptrdiff_t i = 0;
    for (; i + 4 <= m; i += 4) {
        const float *a0 = a + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        std::ptrdiff_t j = 0;
        for (; j + 2 <= n; j += 2) {
            const float *b0 = b + j * ldb, *b1 = b0 + ldb;
            f4 s00 = splat(0), s10 = splat(0), s20 = splat(0), s30 = splat(0);
            f4 s01 = splat(0), s11 = splat(0), s21 = splat(0), s31 = splat(0);
            for (std::ptrdiff_t p = 0; p < k4; p += 4) {
                const f4 x0 = load(b0 + p), x1 = load(b1 + p);
                const f4 w0 = load(a0 + p), w1 = load(a1 + p), w2 = load(a2 + p), w3 = load(a3 + p);
                s00 += w0 * x0, s10 += w1 * x0, s20 += w2 * x0, s30 += w3 * x0;
                s01 += w0 * x1, s11 += w1 * x1, s21 += w2 * x1, s31 += w3 * x1;
            }
            c[i + j * ldc] = sum(s00) + tail(i, j), c[i + 1 + j * ldc] = sum(s10) + tail(i + 1, j);
            c[i + 2 + j * ldc] = sum(s20) + tail(i + 2, j), c[i + 3 + j * ldc] = sum(s30) + tail(i + 3, j);
            c[i + (j + 1) * ldc] = sum(s01) + tail(i, j + 1), c[i + 1 + (j + 1) * ldc] = sum(s11) + tail(i + 1, j + 1);
            c[i + 2 + (j + 1) * ldc] = sum(s21) + tail(i + 2, j + 1), c[i + 3 + (j + 1) * ldc] = sum(s31) + tail(i + 3, j + 1);
        }
        for (; j < n; ++j)
            for (std::ptrdiff_t r = i; r < i + 4; ++r) {
                f4 s = splat(0);
                for (std::ptrdiff_t p = 0; p < k4; p += 4) s += load(a + r * lda + p) * load(b + j * ldb + p);
                c[r + j * ldc] = sum(s) + tail(r, j);
            }
    }
    for (; i < m; ++i)
        for (std::ptrdiff_t j = 0; j < n; ++j) {
            f4 s = splat(0);
            for (std::ptrdiff_t p = 0; p < k4; p += 4) s += load(a + i * lda + p) * load(b + j * ldb + p);
            c[i + j * ldc] = sum(s) + tail(i, j);
        }
}

}  // namespace zimpute
