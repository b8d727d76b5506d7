// The heads' activations against std:: formulas, theta's slope against a finite difference of
// the activation, both forms (checked and unchecked) over the bounded heads' range, and NaN
// kept by the checked form.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "head_activations.hpp"

using namespace zimpute;

TEST_CASE("mu, pi and theta match std:: inside and beyond the bounds, checked and unchecked alike") {
    const HeadBounds<float> hb = head_bounds<float>(true);
    const int n = 4001;
    std::vector<float> p(n), mu_c(n), mu_u(n), pi_c(n), pi_u(n), th_c(n), th_u(n), sl_c(n), sl_u(n), the(n), sle(n);
    for (int i = 0; i < n; ++i) p[i] = -100.0f + 0.05f * static_cast<float>(i);  // -100 .. 100
    const float s = 2.5f;
    kernel::activate_mu<true>(p.data(), mu_c.data(), n, s, hb);
    kernel::activate_mu<false>(p.data(), mu_u.data(), n, s, hb);
    kernel::activate_pi<true>(p.data(), pi_c.data(), n);
    kernel::activate_pi<false>(p.data(), pi_u.data(), n);
    kernel::activate_theta<true, true>(p.data(), th_c.data(), sl_c.data(), n, hb);
    kernel::activate_theta<false, true>(p.data(), th_u.data(), sl_u.data(), n, hb);
    kernel::activate_theta<true, false>(p.data(), the.data(), sle.data(), n, hb);
    for (int i = 0; i < n; ++i) {
        const double x = p[i];
        CAPTURE(x);
        const double mu = s * std::min(std::max(std::exp(x), 1e-5), 1e6);
        const double pi = 1.0 / (1.0 + std::exp(-x));
        const double sp = x > 20 ? x : std::log1p(std::exp(x));
        const double th = std::min(std::max(sp, 1e-4), 1e4);
        const double th_exp = std::min(std::max(std::exp(x), 1e-4), 1e4);
        for (float v : {mu_c[i], mu_u[i]}) CHECK(v == doctest::Approx(mu).epsilon(1e-6));
        for (float v : {pi_c[i], pi_u[i]}) CHECK(v == doctest::Approx(pi).epsilon(1e-6));
        for (float v : {th_c[i], th_u[i]}) CHECK(v == doctest::Approx(th).epsilon(1e-6));
        CHECK(the[i] == doctest::Approx(th_exp).epsilon(1e-6));
        // d theta / d p: sigmoid(p) for softplus, exp(p) for exp, 0 where the clamp holds theta.
        const bool held = sp <= 1e-4 * (1 + 1e-6) || sp >= 1e4 * (1 - 1e-6);
        for (float v : {sl_c[i], sl_u[i]}) CHECK(v == doctest::Approx(held ? 0.0 : pi).epsilon(1e-6));
        const double e = std::exp(x);
        const bool held_exp = e <= 1e-4 * (1 + 1e-6) || e >= 1e4 * (1 - 1e-6);
        CHECK(sle[i] == doctest::Approx(held_exp ? 0.0 : e).epsilon(1e-6));
    }
}

TEST_CASE("theta's slope is the derivative of the activation (central difference, in double)") {
    const HeadBounds<double> hb = head_bounds<double>(true);
    for (double x : {-8.0, -1.0, 0.0, 0.7, 5.0, 9.0}) {
        CAPTURE(x);
        const double h = 1e-6;
        double s, unused;
        kernel::theta_activation<true, true>(x, hb, s);
        const double fd = (kernel::theta_activation<true, true>(x + h, hb, unused) -
                           kernel::theta_activation<true, true>(x - h, hb, unused)) / (2 * h);
        CHECK(s == doctest::Approx(fd).epsilon(1e-7));
        kernel::theta_activation<true, false>(x, hb, s);
        const double fde = (kernel::theta_activation<true, false>(x + h, hb, unused) -
                            kernel::theta_activation<true, false>(x - h, hb, unused)) / (2 * h);
        CHECK(s == doctest::Approx(fde).epsilon(1e-7));
    }
}

TEST_CASE("the checked forms keep NaN, so a diverging network's heads reach the loss's guard") {
    const HeadBounds<float> hb = head_bounds<float>(true);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    float slope;
    CHECK(std::isnan(kernel::mu_activation<true>(nan, 1.0f, hb)));
    CHECK(std::isnan(kernel::pi_activation<true>(nan)));
    CHECK(std::isnan((kernel::theta_activation<true, true>(nan, hb, slope))));
    CHECK(std::isnan(slope));
    CHECK(std::isnan((kernel::theta_activation<true, false>(nan, hb, slope))));
}
