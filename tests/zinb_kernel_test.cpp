// The loss kernel's pieces against independent references: the small-count shortcut against
// std::lgamma and the digamma series sum, and every element of a column (zero, small whole,
// large and fractional counts, each routed to its own pass) against zinb_element.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rng.hpp"
#include "zinb_kernel.hpp"

using namespace zimpute;

TEST_CASE("small counts: lgamma(y+t)-lgamma(t) as log of a product, digamma difference as p'/p") {
    for (double t : {1e-4, 0.3, 1.0, 7.5, 1e3, 1e6})
        for (int y = 1; y <= kernel::kSmallCount; ++y) {
            CAPTURE(t);
            CAPTURE(y);
            double dg_ref = 0;  // digamma(y + t) - digamma(t) = sum_{k<y} 1/(t+k), exactly
            for (int k = 0; k < y; ++k) dg_ref += 1.0 / (t + k);
            const double lg_ref = std::lgamma(y + t) - std::lgamma(t);
            double lg, dg;
            kernel::small_count_terms<double, true>(y, t, lg, dg);
            CHECK(std::fabs(lg - lg_ref) <= 1e-9 * std::max(1.0, std::fabs(lg_ref)));
            CHECK(dg == doctest::Approx(dg_ref).epsilon(1e-13));
            float lgf, dgf, lgu, dgu;
            kernel::small_count_terms<float, true>(static_cast<float>(y), static_cast<float>(t), lgf, dgf);
            kernel::small_count_terms<float, false>(static_cast<float>(y), static_cast<float>(t), lgu, dgu);
            CHECK(lgu == lgf);  // t > 0 normal: the unchecked log is the same polynomial
            CHECK(dgu == dgf);
            // fast_log's 3e-7 relative error plus float products; never a cancellation.
            CHECK(std::fabs(lgf - lg_ref) <= 2e-6 * std::max(1.0, std::fabs(lg_ref)));
            CHECK(dgf == doctest::Approx(dg_ref).epsilon(2e-6));
        }
}

TEST_CASE("every element of a column matches zinb_element, whichever pass handles its count") {
    const double ys[] = {0, 1, 2, 6, 7, 0, 2.5, 0.5, 40, 0, 3, 1000};
    const int genes = sizeof ys / sizeof ys[0];
    for (LossKind kind : {LossKind::zinb_original, LossKind::nb}) {
        CAPTURE(to_string(kind));
        const bool zi = kind != LossKind::nb;
        std::vector<double> y(ys, ys + genes), lgy1(genes), mu(genes), pi(genes), th(genes), pm(genes), pt(genes);
        std::vector<double> g_mu(genes), g_pi(genes), g_th(genes), loss(genes);
        for (int i = 0; i < genes; ++i) {
            lgy1[i] = std::lgamma(y[i] + 1);
            pm[i] = -1.0 + 0.4 * i;  // mu from 0.37 to 30
            mu[i] = std::exp(pm[i]);
            pi[i] = zi ? 0.1 + 0.07 * i : 0.0;
            pt[i] = 2.0 - 0.5 * i;  // theta from 2.1 down to ~0.004, through softplus
            th[i] = softplus(pt[i]);
        }
        const kernel::Column<double> c{y.data(), lgy1.data(), mu.data(), pi.data(), th.data(), pm.data(), pt.data(),
                                       g_mu.data(), g_pi.data(), g_th.data(), loss.data()};
        kernel::Packed<double> pk;
        pk.resize(genes);
        const auto run = kernel::pick<double, false>(zi, true);
        const double total = run(c, kernel::GeneTerms<double>{}, genes, 0.05, pk);
        double sum = 0;
        for (int i = 0; i < genes; ++i) {
            CAPTURE(y[i]);
            double dpi, dmu, dth;
            const double ref = zinb_element<double>(y[i], pi[i], mu[i], theta_terms(th[i]), lgy1[i], kind, 0.05, dpi, dmu, dth);
            sum += ref;
            CHECK(loss[i] == doctest::Approx(ref).epsilon(1e-9));
            // The kernel returns gradients w.r.t. pre-activations: the chain factors of the heads.
            CHECK(g_mu[i] == doctest::Approx(dmu * mu[i]).epsilon(1e-8));
            CHECK(g_th[i] == doctest::Approx(dth * sigmoid(pt[i])).epsilon(1e-8));
            if (zi) CHECK(g_pi[i] == doctest::Approx(dpi * pi[i] * (1 - pi[i])).epsilon(1e-8));
        }
        CHECK(total == doctest::Approx(sum).epsilon(1e-9));
    }
}

// Float columns within the bounded heads' range, extremes included (mu 1e-5..1e6 times size
// factors 0.05..20, theta at both bounds, pi 0 and 1, counts 0 to 1e4 and fractional): the
// unchecked kernel must give what the checked one gives. The only difference allowed is exp's
// underflow (~1e-38 instead of 0), far below float resolution of the results, and rounding.
TEST_CASE("the unchecked float kernel matches the checked one over the bounded heads' range") {
    Rng rng(7);
    const int genes = 4000;
    const HeadBounds<float> hb = head_bounds<float>(true);
    std::vector<float> y(genes), lgy1(genes), mu(genes), pi(genes), th(genes), pm(genes), pt(genes);
    for (int i = 0; i < genes; ++i) {
        const double u = rng.uniform();
        y[i] = u < 0.5 ? 0.0f : u < 0.8 ? static_cast<float>(1 + i % 6) : u < 0.95 ? static_cast<float>(rng.uniform() * 1e4) : 2.5f;
        lgy1[i] = static_cast<float>(std::lgamma(static_cast<double>(y[i]) + 1));
        pm[i] = static_cast<float>(rng.uniform() * 40 - 20);  // beyond both mu bounds' logs
        const float s = static_cast<float>(0.05 + 20 * rng.uniform());
        mu[i] = s * std::min(std::max(std::exp(pm[i]), hb.mu_lo), hb.mu_hi);
        pt[i] = static_cast<float>(rng.uniform() * 40 - 20);
        th[i] = std::min(std::max(static_cast<float>(softplus(static_cast<double>(pt[i]))), hb.th_lo), hb.th_hi);
        pi[i] = i % 7 == 0 ? 0.0f : i % 7 == 1 ? 1.0f : static_cast<float>(rng.uniform());
    }
    auto run = [&](bool checked, std::vector<float>& loss, std::vector<float>& gm, std::vector<float>& gp, std::vector<float>& gt) {
        loss.assign(genes, 0), gm.assign(genes, 0), gp.assign(genes, 0), gt.assign(genes, 0);
        const kernel::Column<float> c{y.data(), lgy1.data(), mu.data(), pi.data(), th.data(), pm.data(), pt.data(),
                                      gm.data(), gp.data(), gt.data(), loss.data()};
        kernel::Packed<float> pk;
        pk.resize(genes);
        return kernel::pick<float, false>(true, true, checked)(c, kernel::GeneTerms<float>{}, genes, 0.05f, pk);
    };
    std::vector<float> l1, m1, p1, t1, l2, m2, p2, t2;
    const double a = run(true, l1, m1, p1, t1), b = run(false, l2, m2, p2, t2);
    CHECK(std::isfinite(a));
    CHECK(b == doctest::Approx(a).epsilon(1e-6));
    auto close = [](float u, float v) { return std::fabs(u - v) <= 1e-6f * std::max(1.0f, std::fabs(u)); };
    int bad = 0;
    for (int i = 0; i < genes; ++i) {
        // The loss of a large count holds lgamma(y + theta) - lgamma(theta), each ~y log y, whose
        // float rounding (a few ulps, which may differ between two compilations) sets its scale.
        const float scale = std::max(1.0f, y[i] * std::log(y[i] + 1.0f));
        const bool ok = std::fabs(l1[i] - l2[i]) <= 1e-6f * std::max(scale, std::fabs(l1[i])) && close(m1[i], m2[i]) && close(p1[i], p2[i]) && close(t1[i], t2[i]);
        if (!ok) MESSAGE("gene " << i << " y " << y[i] << " mu " << mu[i] << " pi " << pi[i] << " theta " << th[i] << ": " << l1[i] << " " << l2[i] << " " << m1[i] << " " << m2[i] << " " << p1[i] << " " << p2[i] << " " << t1[i] << " " << t2[i]);
        bad += !ok;
    }
    CHECK(bad == 0);
}
