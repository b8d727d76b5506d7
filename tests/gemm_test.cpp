// The portable SIMD products used by the wasm build, checked against Eigen on every shape the
// network uses and on ragged sizes that exercise every leftover path.
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <array>
#include <initializer_list>

#include "gemm.hpp"

using namespace zimpute;
using M = Eigen::MatrixXf;

TEST_CASE("gemm_nn: C = A B and C = A B^T match Eigen") {
    for (auto [m, n, k] : {std::array<int, 3>{64, 32, 1000}, {3000, 33, 64}, {64, 1000, 32}, {24, 131, 300}, {13, 70, 5}, {7, 5, 3}, {9, 6, 11}, {16, 4, 1}, {1, 1, 1}}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(k);
        const M a = M::Random(m, k), b = M::Random(k, n), bt = b.transpose();
        M c(m, n);
        gemm_nn(m, n, k, a.data(), m, b.data(), 1, k, c.data(), m);
        CHECK((c - a * b).cwiseAbs().maxCoeff() < 1e-4f * (1.0f + static_cast<float>(k) / 100));
        gemm_nn(m, n, k, a.data(), m, bt.data(), n, 1, c.data(), m);
        CHECK((c - a * b).cwiseAbs().maxCoeff() < 1e-4f * (1.0f + static_cast<float>(k) / 100));
    }
}

TEST_CASE("gemm_nn: blocks inside larger buffers (the network's row splits), with and without a packed A panel") {
    for (int k : {40, 300}) {
        CAPTURE(k);
        // A = rows 3..21 of a 30-row matrix (lda 30), B^T plain, C = rows 1..19 of 25 (ldc 25)
        const M big_a = M::Random(30, k), b = M::Random(k, 7);
        M big_c = M::Zero(25, 7);
        gemm_nn(19, 7, k, big_a.data() + 3, 30, b.data(), 1, k, big_c.data() + 1, 25);
        const M want = big_a.middleRows(3, 19) * b;
        CHECK((big_c.middleRows(1, 19) - want).cwiseAbs().maxCoeff() < 1e-4f * (1.0f + static_cast<float>(k) / 100));
        CHECK(big_c.row(0).cwiseAbs().maxCoeff() == 0.0f);  // rows outside the block untouched
        CHECK(big_c.bottomRows(5).cwiseAbs().maxCoeff() == 0.0f);
    }
}

TEST_CASE("gemm_tn: C = A^T B matches Eigen, including blocks inside larger buffers") {
    for (auto [m, n, k] : {std::array<int, 3>{64, 32, 3000}, {7, 5, 259}, {32, 33, 64}, {5, 3, 7}, {4, 2, 4}, {9, 7, 13}}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(k);
        const M a = M::Random(k, m), b = M::Random(k, n);
        M c(m, n);
        gemm_tn(m, n, k, a.data(), k, b.data(), k, c.data(), m);
        CHECK((c - a.transpose() * b).cwiseAbs().maxCoeff() < 1e-4f * (1.0f + static_cast<float>(k) / 100));
    }
    // leading dimensions larger than the block (a batch of columns inside a wider workspace)
    const M a = M::Random(20, 6), b = M::Random(20, 9);
    M c = M::Zero(10, 9);
    gemm_tn(6, 5, 20, a.data(), 20, b.data(), 20, c.data(), 10);
    CHECK((c.topLeftCorner(6, 5) - a.transpose() * b.leftCols(5)).cwiseAbs().maxCoeff() < 1e-5f);
    CHECK(c.bottomRows(4).cwiseAbs().maxCoeff() == 0.0f);
}
