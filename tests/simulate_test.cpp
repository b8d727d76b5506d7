#include <doctest/doctest.h>

#include <cmath>

#include "simulate.hpp"

using namespace zimpute;

TEST_CASE("simulated data keeps its promises") {
    SimulateOptions o;
    o.genes = 500;
    o.cells = 300;
    o.zero_fraction = 0.6;
    const Simulation s = simulate(o);
    const auto& obs = s.observed.counts;
    const auto& tru = s.truth.counts;
    const double zeros = static_cast<double>((obs.array() == 0).count()) / static_cast<double>(obs.size());
    CHECK(zeros == doctest::Approx(0.6).epsilon(0.03));
    CHECK((tru.array() >= obs.array()).all());
    CHECK(((obs.array() != 0) == (obs.array() == tru.array()) || (obs.array() == 0)).all());
    CHECK((tru.array() == tru.array().floor()).all());
    CHECK(s.observed.cells[0] == "Cell1");
    CHECK_FALSE(s.observed.has_row_names);  // the course's format
    // dropout is real: many true non-zeros were zeroed
    CHECK((tru.array() > 0 && obs.array() == 0).count() > obs.size() / 10);
}

TEST_CASE("groups differ: some genes have clearly different means between groups") {
    SimulateOptions o;
    o.genes = 300;
    o.cells = 400;
    o.groups = 2;
    o.de_prob = 0.2;
    const Simulation s = simulate(o);
    Eigen::VectorXd m0 = Eigen::VectorXd::Zero(o.genes), m1 = m0;
    int n0 = 0, n1 = 0;
    for (int j = 0; j < o.cells; ++j) {
        const Eigen::VectorXd col = s.truth.counts.col(j).cast<double>() / s.truth.counts.col(j).sum();
        if (s.group[static_cast<std::size_t>(j)] == 0) {
            m0 += col;
            ++n0;
        } else {
            m1 += col;
            ++n1;
        }
    }
    REQUIRE(n0 > 50);
    REQUIRE(n1 > 50);
    int strong = 0;
    for (int i = 0; i < o.genes; ++i) {
        const double a = m0(i) / n0, b = m1(i) / n1;
        if (a > 1e-4 && b > 1e-4 && std::fabs(std::log(a / b)) > 0.4) ++strong;
    }
    CHECK(strong > 10);
}

TEST_CASE("seeded: the same seed gives the same matrix, another seed another") {
    SimulateOptions o;
    o.genes = 50;
    o.cells = 40;
    CHECK(simulate(o).observed.counts == simulate(o).observed.counts);
    o.seed = 2;
    SimulateOptions p = o;
    p.seed = 3;
    CHECK(simulate(o).observed.counts != simulate(p).observed.counts);
    CHECK(simulate(o).truth.counts != simulate(p).truth.counts);
}

TEST_CASE("keep_parameters: the true means and dropout probabilities the counts were drawn from") {
    SimulateOptions o;
    o.genes = 400;
    o.cells = 300;
    o.zero_fraction = 0.7;
    const Simulation plain = simulate(o);
    CHECK(plain.mean.size() == 0);
    CHECK(plain.dropout.size() == 0);
    o.keep_parameters = true;
    const Simulation s = simulate(o);
    CHECK(s.observed.counts == plain.observed.counts);  // the same draws
    CHECK(s.truth.counts == plain.truth.counts);
    REQUIRE(s.mean.rows() == o.genes);
    REQUIRE(s.mean.cols() == o.cells);
    REQUIRE(s.dropout.rows() == o.genes);
    REQUIRE(s.dropout.cols() == o.cells);
    CHECK((s.dropout.array() >= 0).all());
    CHECK((s.dropout.array() <= 1).all());
    CHECK((s.mean.array() >= 0).all());
    const double n = static_cast<double>(s.mean.size());
    // Truth is Poisson(mean): its total is the means' total within a few standard deviations
    // (sd = sqrt(total)).
    const double total_mean = s.mean.cast<double>().sum(), total_truth = s.truth.counts.cast<double>().sum();
    CHECK(std::fabs(total_truth - total_mean) < 5 * std::sqrt(total_mean));
    // Expected zeros from the parameters match the observed zeros, and expected dropouts (true
    // non-zero, observed zero) the counted ones.
    double zeros = 0, drops = 0;
    for (Eigen::Index k = 0; k < s.mean.size(); ++k) {
        const double p0 = std::exp(-static_cast<double>(s.mean.data()[k])), d = s.dropout.data()[k];
        zeros += p0 + (1 - p0) * d;
        drops += (1 - p0) * d;
    }
    const auto& obs = s.observed.counts;
    const auto& tru = s.truth.counts;
    CHECK(static_cast<double>((obs.array() == 0).count()) / n == doctest::Approx(zeros / n).epsilon(0.01));
    CHECK(static_cast<double>((tru.array() > 0 && obs.array() == 0).count()) / n == doctest::Approx(drops / n).epsilon(0.02));
    // The rates are Gamma(shape, rate shape / base_mean) draws: mean base_mean, variance
    // base_mean^2 / shape.
    REQUIRE(s.base_mean.rows() == o.genes);
    REQUIRE(s.bcv_shape.cols() == o.cells);
    CHECK((s.bcv_shape.array() > 0).all());
    double base_total = 0, z2 = 0;
    for (Eigen::Index k = 0; k < s.mean.size(); ++k) {
        const double b = s.base_mean.data()[k], a = s.bcv_shape.data()[k], d = s.mean.data()[k] - b;
        base_total += b;
        z2 += d * d * a / (b * b);
    }
    CHECK(total_mean == doctest::Approx(base_total).epsilon(0.02));
    CHECK(z2 / n == doctest::Approx(1.0).epsilon(0.1));
    CHECK(plain.base_mean.size() == 0);
    // Dropout falls with the mean (negative logistic slope).
    Eigen::Index lo_gene = 0, lo_cell = 0, hi_gene = 0, hi_cell = 0;
    s.mean.minCoeff(&lo_gene, &lo_cell);
    s.mean.maxCoeff(&hi_gene, &hi_cell);
    CHECK(s.dropout(lo_gene, lo_cell) > s.dropout(hi_gene, hi_cell));
}
