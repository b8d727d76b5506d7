#include <doctest/doctest.h>

#include <cmath>

#include "preprocess.hpp"

using namespace zimpute;
using M = Eigen::MatrixXf;

TEST_CASE("libsize size factors are totals over the median total; log1p and per-gene z-score") {
    M c(3, 4);
    c << 1, 2, 0, 4,  //
        3, 0, 5, 4,   //
        0, 2, 1, 8;
    const PreprocessParams p = fit_preprocess(c);
    // totals 4, 4, 6, 16 -> median 5
    CHECK(p.size_factor_reference == doctest::Approx(5.0f));
    const Preprocessed d = apply_preprocess(p, c);
    CHECK(d.size_factors(3) == doctest::Approx(16.0f / 5));
    const float x00 = std::log1p(1.0f / (4.0f / 5));
    // per-gene: every gene has mean 0 and sd 1 over cells
    for (int i = 0; i < 3; ++i) {
        CHECK(std::fabs(d.input.row(i).mean()) < 1e-5f);
        CHECK(std::sqrt(d.input.row(i).squaredNorm() / 4) == doctest::Approx(1.0f).epsilon(1e-4));
    }
    CHECK(d.input(0, 0) == doctest::Approx((x00 - p.center(0)) / p.scale(0)));
}

TEST_CASE("median size factors (seed) guard zero medians with the median of non-zero counts") {
    M c(5, 2);
    c << 0, 1,  //
        0, 2,   //
        0, 3,   //
        4, 4,   //
        6, 5;
    const Eigen::VectorXf raw = raw_size_factors(c, SizeFactorMethod::median);
    CHECK(raw(1) == 3.0f);  // the (G/2)-th smallest of 1..5
    CHECK(raw(0) == 5.0f);  // median 0 -> median of {4, 6}
}

TEST_CASE("global scaling uses one mean and sd; none leaves log1p values") {
    M c = M::Constant(3, 3, 2);
    c(0, 0) = 9;
    PreprocessOptions o;
    o.scale = ScaleMethod::global;
    const Preprocessed g = apply_preprocess(fit_preprocess(c, o), c);
    CHECK(std::fabs(g.input.mean()) < 1e-5f);
    CHECK(std::sqrt(g.input.squaredNorm() / 9) == doctest::Approx(1.0f).epsilon(1e-4));
    o.scale = ScaleMethod::none;
    o.size_factors = SizeFactorMethod::none;
    const Preprocessed n = apply_preprocess(fit_preprocess(c, o), c);
    CHECK(n.input(1, 1) == doctest::Approx(std::log1p(2.0f)));
}

TEST_CASE("all-zero genes and cells are set aside; a new matrix uses the fitted parameters") {
    M c(4, 4);
    c << 1, 0, 2, 0,  //
        0, 0, 0, 0,   //
        3, 0, 1, 2,   //
        2, 0, 5, 1;
    const PreprocessParams p = fit_preprocess(c);
    REQUIRE(p.kept_genes.size() == 3);
    CHECK(p.kept_genes[1] == 2);
    const Preprocessed d = apply_preprocess(p, c);
    REQUIRE(d.kept_cells.size() == 3);
    CHECK(d.kept_cells[1] == 2);
    CHECK(d.counts.rows() == 3);

    M other = c * 2;
    const Preprocessed o = apply_preprocess(p, other);
    CHECK(o.size_factors(0) == doctest::Approx(2 * d.size_factors(0)));
    CHECK_THROWS_WITH_AS(apply_preprocess(p, M::Ones(5, 2)), "the matrix has 5 genes, the model expects 4",
                         std::invalid_argument);
    CHECK_THROWS_AS(fit_preprocess(M::Zero(3, 3)), std::invalid_argument);
}

TEST_CASE("a constant gene does not divide by zero") {
    M c(2, 3);
    c << 1, 1, 1,  //
        0, 3, 6;
    PreprocessOptions o;
    o.size_factors = SizeFactorMethod::none;
    const Preprocessed d = apply_preprocess(fit_preprocess(c, o), c);
    CHECK(d.input.allFinite());
    CHECK(d.input.row(0).cwiseAbs().maxCoeff() < 1e-6f);
}
