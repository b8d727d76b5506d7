#include <doctest/doctest.h>

#include <cmath>

#include "test_util.hpp"
#include "zinb_loss.hpp"

using namespace zimpute;

namespace {

// ZINB probability mass computed independently of the loss code: Gamma ratios as products,
// no lgamma, no eps. P(0) = pi + (1-pi) NB(0); P(y) = (1-pi) NB(y).
double zinb_pmf(int y, double pi, double mu, double theta) {
    double ratio = 1;  // Gamma(y + theta) / (Gamma(theta) y!)
    for (int k = 0; k < y; ++k) ratio *= (theta + k) / (k + 1);
    const double nb = ratio * std::pow(theta / (theta + mu), theta) * std::pow(mu / (theta + mu), y);
    return (y == 0 ? pi : 0.0) + (1 - pi) * nb;
}

double element(double y, double pi, double mu, double theta, LossKind kind, double ridge = 0) {
    double a, b, c;
    return zinb_element<double>(y, pi, mu, theta, std::lgamma(y + 1), kind, ridge, a, b, c);
}

}  // namespace

TEST_CASE("loss equals -log of an independently computed ZINB mass") {
    for (int y : {0, 1, 3, 12})
        for (double pi : {0.05, 0.4, 0.9})
            for (double mu : {0.2, 2.0, 25.0})
                for (double theta : {0.3, 1.5, 40.0}) {
                    CAPTURE(y);
                    CAPTURE(pi);
                    CAPTURE(mu);
                    CAPTURE(theta);
                    const double ref = -std::log(zinb_pmf(y, pi, mu, theta));
                    CHECK(element(y, pi, mu, theta, LossKind::zinb_original) == doctest::Approx(ref).epsilon(1e-8));
                    CHECK(element(y, pi, mu, theta, LossKind::zinb_guarded) == doctest::Approx(ref).epsilon(1e-8));
                }
}

TEST_CASE("the loss is a normalized distribution: sum over y of exp(-loss) is 1") {
    for (LossKind kind : {LossKind::zinb_original, LossKind::nb}) {
        double total = 0;
        for (int y = 0; y < 4000; ++y) total += std::exp(-element(y, 0.3, 7.5, 0.8, kind));
        CHECK(total == doctest::Approx(1.0).epsilon(1e-7));
    }
}

TEST_CASE("edge values: x = 0 with huge theta, tiny mu, theta above the cap, ridge") {
    // theta -> infinity: NB(0) -> Poisson(0) = exp(-mu); the cap at 1e6 keeps this within 1e-5.
    CHECK(element(0, 0.2, 3.0, 5e6, LossKind::zinb_original) ==
          doctest::Approx(-std::log(0.2 + 0.8 * std::exp(-3.0))).epsilon(1e-5));
    // tiny mu: a zero is certain whatever pi is
    CHECK(std::fabs(element(0, 0.7, 1e-9, 2.0, LossKind::zinb_original)) < 1e-8);
    // NB for y > 0 at huge theta is Poisson: -log(e^-mu mu^y / y!)
    CHECK(element(4, 0, 2.5, 1e6, LossKind::nb) ==
          doctest::Approx(2.5 - 4 * std::log(2.5) + std::lgamma(5.0)).epsilon(1e-5));
    // above the cap the value equals the value at the cap and theta gets no gradient
    double gp, gm, gt;
    const double capped = zinb_element<double>(3, 0.1, 2.0, 3e6, std::lgamma(4.0), LossKind::zinb_original, 0, gp, gm, gt);
    CHECK(capped == doctest::Approx(element(3, 0.1, 2.0, kThetaMax, LossKind::zinb_original)));
    CHECK(gt == 0.0);
    // ridge adds lambda pi^2
    CHECK(element(2, 0.3, 1.0, 1.0, LossKind::zinb_original, 0.5) ==
          doctest::Approx(element(2, 0.3, 1.0, 1.0, LossKind::zinb_original) + 0.5 * 0.09));
}

TEST_CASE("analytic gradients match finite differences (double)") {
    for (LossKind kind : {LossKind::zinb_original, LossKind::zinb_guarded, LossKind::nb})
        for (double y : {0.0, 1.0, 5.0, 30.0})
            for (double pi : {0.1, 0.6})
                for (double mu : {0.05, 1.3, 40.0})
                    for (double theta : {0.02, 0.9, 150.0}) {
                        CAPTURE(to_string(kind));
                        CAPTURE(y);
                        CAPTURE(pi);
                        CAPTURE(mu);
                        CAPTURE(theta);
                        Eigen::VectorXd p(3);
                        p << pi, mu, theta;
                        const double ridge = 0.25;
                        auto f = [&] { return element(y, p(0), p(1), p(2), kind, ridge); };
                        Eigen::VectorXd analytic(3);
                        zinb_element<double>(y, pi, mu, theta, std::lgamma(y + 1), kind, ridge, analytic(0), analytic(1),
                                             analytic(2));
                        const Eigen::VectorXd numeric = test::numeric_gradient(p, f, 1e-7);
                        CHECK(test::relative_error(analytic, numeric) < 1e-5);
                    }
}

TEST_CASE("matrix loss: mean over elements; guarded leaves out non-finite elements, original propagates them") {
    Eigen::MatrixXd y(2, 2), pi(2, 2), mu(2, 2), th(2, 2), dpi(2, 2), dmu(2, 2), dth(2, 2);
    y << 0, 3, 1, 0;
    pi.setConstant(0.3);
    mu << 1.0, 2.0, 0.5, 4.0;
    th.setConstant(2.0);
    LossOptions o{LossKind::zinb_original, 0};
    const double mean = zinb_loss(y, pi, mu, th, o, dpi, dmu, dth);
    double expected = 0;
    for (int k = 0; k < 4; ++k) expected += element(y(k), pi(k), mu(k), th(k), LossKind::zinb_original) / 4;
    CHECK(mean == doctest::Approx(expected));

    mu(1, 1) = std::nan("");
    CHECK(std::isnan(zinb_loss(y, pi, mu, th, o, dpi, dmu, dth)));
    o.kind = LossKind::zinb_guarded;
    Eigen::Index used = 0;
    const double guarded = zinb_loss(y, pi, mu, th, o, dpi, dmu, dth, &used);
    CHECK(used == 3);
    double three = 0;
    for (int k = 0; k < 3; ++k) three += element(y(k), pi(k), mu(k), th(k), LossKind::zinb_original) / 3;
    CHECK(guarded == doctest::Approx(three));
    CHECK(dmu(1, 1) == 0.0);
    CHECK(std::isfinite(dpi.sum()));
}
