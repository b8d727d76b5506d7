#include <doctest/doctest.h>

#include <cmath>

#include "impute.hpp"

using namespace zimpute;
using M = Eigen::MatrixXf;

namespace {

Prediction fake(int g, int c) {
    Prediction p;
    p.pi = M::Constant(g, c, 0.8f);
    p.mu = M::Constant(g, c, 3.7f);
    p.theta = M::Constant(g, c, 2.0f);
    return p;
}

}  // namespace

TEST_CASE("seed rule: observed zeros with pi > 0.5 become floor(mu); everything else is kept") {
    M obs(2, 2);
    obs << 0, 5, 0, 1;
    Prediction p = fake(2, 2);
    p.pi(1, 0) = 0.4f;
    const M out = impute(obs, p, ImputeRule::course);
    CHECK(out(0, 0) == 3.0f);
    CHECK(out(1, 0) == 0.0f);
    CHECK(out(0, 1) == 5.0f);
}

TEST_CASE("mean rule replaces every entry by mu") {
    M obs(1, 2);
    obs << 0, 9;
    const M out = impute(obs, fake(1, 2), ImputeRule::mean);
    CHECK(out(0, 0) == doctest::Approx(3.7f));
    CHECK(out(0, 1) == doctest::Approx(3.7f));
}

TEST_CASE("posterior rule: P(dropout | 0) * mu on zeros, computed by hand") {
    M obs(1, 2);
    obs << 0, 4;
    const M out = impute(obs, fake(1, 2), ImputeRule::posterior);
    const double nb0 = std::pow(2.0 / (2.0 + 3.7), 2.0);
    const double post = 0.8 / (0.8 + 0.2 * nb0);
    CHECK(out(0, 0) == doctest::Approx(post * 3.7));
    CHECK(out(0, 1) == 4.0f);
    CHECK(dropout_posterior(0.0f, 3.0f, 1.0f) == 0.0f);
    CHECK(dropout_posterior(1.0f, 3.0f, 1.0f) == doctest::Approx(1.0f));
}

TEST_CASE("entries the model never saw (theta = 0) keep the observed value under every rule") {
    M obs(1, 2);
    obs << 0, 2;
    Prediction p = fake(1, 2);
    p.theta.setZero();
    for (ImputeRule r : {ImputeRule::course, ImputeRule::mean, ImputeRule::posterior}) CHECK(impute(obs, p, r) == obs);
}
