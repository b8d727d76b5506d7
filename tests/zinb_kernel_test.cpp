// The loss kernel's pieces against independent references: the small-count shortcut against
// std::lgamma and the digamma series sum, and every element of a column (zero, small whole,
// large and fractional counts, each routed to its own pass) against zinb_element.
#include <doctest/doctest.h>

#include <cmath>

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
            kernel::small_count_terms<double>(y, t, lg, dg);
            CHECK(std::fabs(lg - lg_ref) <= 1e-9 * std::max(1.0, std::fabs(lg_ref)));
            CHECK(dg == doctest::Approx(dg_ref).epsilon(1e-13));
            float lgf, dgf;
            kernel::small_count_terms<float>(static_cast<float>(y), static_cast<float>(t), lgf, dgf);
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
