#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "special.hpp"

using namespace zimpute;

TEST_CASE("lgamma matches std::lgamma across the range the loss uses") {
    for (double x : {1e-6, 1e-4, 0.01, 0.3, 0.5, 1.0, 2.5, 7.9, 8.0, 17.3, 100.0, 1234.5, 1e5, 1e7}) {
        CAPTURE(x);
        CHECK(std::fabs(lgamma_fast(x) - std::lgamma(x)) < 5e-11 * std::max(1.0, std::fabs(std::lgamma(x))));
        const float f = static_cast<float>(x);
        CHECK(static_cast<double>(lgamma_fast(f)) == doctest::Approx(std::lgamma(static_cast<double>(f))).epsilon(2e-6));
    }
}

TEST_CASE("digamma matches known values and the derivative of lgamma") {
    const double euler = 0.57721566490153286061;
    CHECK(digamma(1.0) == doctest::Approx(-euler).epsilon(1e-11));
    CHECK(digamma(0.5) == doctest::Approx(-euler - 2 * std::log(2.0)).epsilon(1e-11));
    CHECK(digamma(10.0) == doctest::Approx(2.251752589066721).epsilon(1e-11));
    for (double x : {1e-3, 0.2, 3.7, 42.0, 5e4}) {
        CAPTURE(x);
        const double h = 1e-5 * x;
        const double numeric = (std::lgamma(x + h) - std::lgamma(x - h)) / (2 * h);
        CHECK(digamma(x) == doctest::Approx(numeric).epsilon(1e-7));
        // recurrence psi(x + 1) = psi(x) + 1/x
        CHECK(digamma(x + 1) == doctest::Approx(digamma(x) + 1 / x).epsilon(1e-11));
        CHECK(static_cast<double>(digamma(static_cast<float>(x))) == doctest::Approx(digamma(x)).epsilon(2e-5));
    }
}
