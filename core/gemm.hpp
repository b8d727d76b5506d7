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

/// C = A B (see above). Blocks of 8 rows x 4 columns of C stay in registers across k; A's
/// 8-row panel is reused for every column block before moving on (it stays in L1).
inline void gemm_nn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a, std::ptrdiff_t lda,
                    const float* b, std::ptrdiff_t bs_k, std::ptrdiff_t bs_n, float* c, std::ptrdiff_t ldc) {
    using namespace simd;
    std::ptrdiff_t i = 0;
    for (; i + 8 <= m; i += 8) {
        std::ptrdiff_t j = 0;
        for (; j + 4 <= n; j += 4) {
            f4 c00 = splat(0), c01 = splat(0), c02 = splat(0), c03 = splat(0);
            f4 c10 = splat(0), c11 = splat(0), c12 = splat(0), c13 = splat(0);
            const float* bj = b + j * bs_n;
            for (std::ptrdiff_t p = 0; p < k; ++p) {
                const f4 a0 = load(a + i + p * lda), a1 = load(a + i + 4 + p * lda);
                const float* bp = bj + p * bs_k;
                const f4 b0 = splat(bp[0]), b1 = splat(bp[bs_n]), b2 = splat(bp[2 * bs_n]), b3 = splat(bp[3 * bs_n]);
                c00 += a0 * b0, c10 += a1 * b0;
                c01 += a0 * b1, c11 += a1 * b1;
                c02 += a0 * b2, c12 += a1 * b2;
                c03 += a0 * b3, c13 += a1 * b3;
            }
            store(c + i + j * ldc, c00), store(c + i + 4 + j * ldc, c10);
            store(c + i + (j + 1) * ldc, c01), store(c + i + 4 + (j + 1) * ldc, c11);
            store(c + i + (j + 2) * ldc, c02), store(c + i + 4 + (j + 2) * ldc, c12);
            store(c + i + (j + 3) * ldc, c03), store(c + i + 4 + (j + 3) * ldc, c13);
        }
        for (; j < n; ++j) {  // leftover columns
            f4 c0 = splat(0), c1 = splat(0);
            for (std::ptrdiff_t p = 0; p < k; ++p) {
                const f4 bv = splat(b[p * bs_k + j * bs_n]);
                c0 += load(a + i + p * lda) * bv, c1 += load(a + i + 4 + p * lda) * bv;
            }
            store(c + i + j * ldc, c0), store(c + i + 4 + j * ldc, c1);
        }
    }
    for (; i < m; ++i)  // leftover rows
        for (std::ptrdiff_t j = 0; j < n; ++j) {
            float s = 0;
            for (std::ptrdiff_t p = 0; p < k; ++p) s += a[i + p * lda] * b[p * bs_k + j * bs_n];
            c[i + j * ldc] = s;
        }
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
