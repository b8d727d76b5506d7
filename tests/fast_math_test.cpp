#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "fast_math.hpp"
#include "rng.hpp"

using namespace zimpute;

TEST_CASE("fast_log: relative error below 3e-7 over the normal float range, absolute 1e-7 near 1") {
    Rng rng(1);
    double worst_rel = 0, worst_abs = 0;
    for (int k = 0; k < 200000; ++k) {
        const float x = static_cast<float>(std::exp(rng.uniform() * 170.0 - 85.0));  // 1e-37 .. 1e37
        const double ref = std::log(static_cast<double>(x));
        const double err = std::fabs(static_cast<double>(fast_log(x)) - ref);
        if (std::fabs(ref) > 0.5) worst_rel = std::max(worst_rel, err / std::fabs(ref));
        else worst_abs = std::max(worst_abs, err);
    }
    for (float x = 0.5f; x < 2.0f; x += 1e-4f) worst_abs = std::max(worst_abs, std::fabs(fast_log(x) - std::log(static_cast<double>(x))));
    MESSAGE("log: worst relative " << worst_rel << ", worst absolute near 1 " << worst_abs);
    CHECK(worst_rel < 3e-7);
    CHECK(worst_abs < 1e-7);
}

TEST_CASE("fast_exp: relative error below 3e-7 over [-87, 88]") {
    double worst = 0;
    for (float x = -87.0f; x < 88.0f; x += 0.0013f)
        worst = std::max(worst, std::fabs(fast_exp(x) / std::exp(static_cast<double>(x)) - 1.0));
    MESSAGE("exp: worst relative " << worst);
    CHECK(worst < 3e-7);
}

TEST_CASE("special values behave as std::log and std::exp") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(fast_log(0.0f) == -inf);
    CHECK(std::isnan(fast_log(-1.0f)));
    CHECK(std::isnan(fast_log(nan)));
    CHECK(fast_log(inf) == inf);
    CHECK(fast_log(1.0f) == 0.0f);
    CHECK(fast_exp(0.0f) == 1.0f);
    CHECK(fast_exp(100.0f) == inf);
    CHECK(fast_exp(-100.0f) == 0.0f);
    CHECK(std::isnan(fast_exp(nan)));
    CHECK(fast_exp(inf) == inf);
    CHECK(fast_exp(-inf) == 0.0f);
}

TEST_CASE("fast_log1p keeps log1p's relative accuracy down to tiny x (where log(1 + x) loses it)") {
    double worst = 0;
    for (double x = 1e-9; x < 1e7; x *= 1.37) {
        const float xf = static_cast<float>(x);
        const double ref = std::log1p(static_cast<double>(xf));
        worst = std::max(worst, std::fabs(fast_log1p(xf) - ref) / ref);
    }
    CHECK(worst < 1e-6);
    CHECK(fast_log1p(0.0f) == 0.0f);
}

TEST_CASE("the unchecked forms equal the checked ones inside their domain, and are finite at its edges") {
    Rng rng(2);
    for (int k = 0; k < 100000; ++k) {
        const float x = static_cast<float>(std::exp(rng.uniform() * 170.0 - 85.0));
        // The same polynomials: equal up to the compiler's freedom in rounding (one ulp or so)
        REQUIRE(fast_log_unchecked(x) == doctest::Approx(fast_log(x)).epsilon(2e-7));
        REQUIRE(flog1p<false>(x) == doctest::Approx(fast_log1p(x)).epsilon(2e-7));
    }
    for (float x = -87.0f; x < 88.0f; x += 0.0137f) REQUIRE(fast_exp_unchecked(x) == doctest::Approx(fast_exp(x)).epsilon(2e-7));
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    // The documented extremes: clamped, never 0 or inf, so callers must not rely on either ...
    CHECK(fast_exp_unchecked(inf) > 1e38f);
    CHECK(fast_exp_unchecked(inf) < inf);
    CHECK(fast_exp_unchecked(-inf) > 0.0f);
    CHECK(fast_exp_unchecked(-inf) < 2e-38f);
    // NaN is outside the unchecked exp's domain (its clamp maps it to a finite value); log1p's
    // arithmetic still propagates it.
    CHECK(std::isnan(flog1p<false>(nan)));
    // Checked = false picks the unchecked form; double is std:: either way.
    CHECK(fexp<false>(-inf) > 0.0f);
    CHECK(fexp<true>(-inf) == 0.0f);
    CHECK(flog<false>(2.0) == std::log(2.0));
}

TEST_CASE("all_finite: any NaN or infinity anywhere in the column") {
    std::vector<float> x(37, 1.5f);
    CHECK(all_finite(x.data(), 37));
    for (float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
        for (int at : {0, 17, 36}) {
            std::vector<float> z = x;
            z[static_cast<std::size_t>(at)] = v;
            CHECK_FALSE(all_finite(z.data(), 37));
        }
    x[5] = std::numeric_limits<float>::max();  // large but finite
    CHECK(all_finite(x.data(), 37));
}
