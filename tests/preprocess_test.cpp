#include <doctest/doctest.h>

#include <cmath>
#include <vector>

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
    const M input = d.dense_input();
    CHECK(d.size_factors(3) == doctest::Approx(16.0f / 5));
    const float x00 = std::log1p(1.0f / (4.0f / 5));
    // per-gene: every gene has mean 0 and sd 1 over cells
    for (int i = 0; i < 3; ++i) {
        CHECK(std::fabs(input.row(i).mean()) < 1e-5f);
        CHECK(std::sqrt(input.row(i).squaredNorm() / 4) == doctest::Approx(1.0f).epsilon(1e-4));
    }
    CHECK(input(0, 0) == doctest::Approx((x00 - p.center(0)) / p.scale(0)));
    // The trainer's sparse form: input_zero plus the deviations at the non-zeros is the input.
    std::vector<float> dev(3);
    for (Eigen::Index j = 0; j < 4; ++j) {
        const Eigen::Index n = d.input_deviations(j, dev.data());
        CHECK(n == d.start[static_cast<std::size_t>(j) + 1] - d.start[static_cast<std::size_t>(j)]);
        Eigen::VectorXf rebuilt = d.input_zero;
        for (Eigen::Index e = 0; e < n; ++e) rebuilt(d.gene[static_cast<std::size_t>(d.start[static_cast<std::size_t>(j)] + e)]) += dev[static_cast<std::size_t>(e)];
        CHECK(rebuilt.isApprox(input.col(j), 1e-6f));
        CHECK((rebuilt.array() != d.input_zero.array()).count() == n);
    }
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
    const M g = apply_preprocess(fit_preprocess(c, o), c).dense_input();
    CHECK(std::fabs(g.mean()) < 1e-5f);
    CHECK(std::sqrt(g.squaredNorm() / 9) == doctest::Approx(1.0f).epsilon(1e-4));
    o.scale = ScaleMethod::none;
    o.size_factors = SizeFactorMethod::none;
    const M n = apply_preprocess(fit_preprocess(c, o), c).dense_input();
    CHECK(n(1, 1) == doctest::Approx(std::log1p(2.0f)));
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
    CHECK(d.n_genes() == 3);
    CHECK(d.dense_counts() == (M(3, 3) << 1, 2, 0, 3, 1, 2, 2, 5, 1).finished());

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
    const M d = apply_preprocess(fit_preprocess(c, o), c).dense_input();
    CHECK(d.allFinite());
    CHECK(d.row(0).cwiseAbs().maxCoeff() < 1e-6f);
}

TEST_CASE("the sparse store holds exactly the non-zero counts; a row map reorders genes without a copy") {
    M c(4, 3);
    c << 0, 2, 0,  //
        5, 0, 0,   //
        0, 0, 1,   //
        3, 4, 0;
    const PreprocessParams p = fit_preprocess(c);
    const Preprocessed d = apply_preprocess(p, c);
    CHECK(d.nnz() == 5);
    CHECK(d.start == std::vector<Eigen::Index>{0, 2, 4, 5});
    CHECK(d.dense_counts() == c);
    // The same genes in reverse order, with a map back to the model's order.
    const M reversed = c.colwise().reverse();
    const std::vector<Eigen::Index> rows = {3, 2, 1, 0};
    const Preprocessed r = apply_preprocess(p, reversed, &rows);
    CHECK(r.dense_counts() == c);
    CHECK(r.dense_input() == d.dense_input());
    const std::vector<Eigen::Index> two = {0, 1};
    CHECK_THROWS_WITH_AS(apply_preprocess(p, c, &two),
                         "the matrix has 2 genes, the model expects 4", std::invalid_argument);
}

TEST_CASE("a cell with counts only in genes left out is set aside, in fitting as in applying") {
    M c(4, 4);
    c << 9, 0, 3, 2,  //
        5, 0, 1, 4,   //
        0, 1, 0, 0,   //
        8, 0, 2, 2;
    PreprocessOptions o;
    o.min_gene_counts = 2;  // gene 2 (1 count) left out: cell 1 has nothing else
    const PreprocessParams p = fit_preprocess(c, o);
    CHECK(p.kept_genes == std::vector<Eigen::Index>{0, 1, 3});
    // The median library size over the three remaining cells (22, 6, 8): 8, not 7 with the empty one.
    CHECK(p.size_factor_reference == doctest::Approx(8.0f));
    CHECK(apply_preprocess(p, c).kept_cells == std::vector<Eigen::Index>{0, 2, 3});
}
