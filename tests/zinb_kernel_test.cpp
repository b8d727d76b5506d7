// The loss kernel's pieces against independent references: the small-count shortcut against
// std::lgamma and the digamma series sum, and every element of a column (zero, small whole,
// large and fractional counts, each routed to its own pass) against zinb_element, the fused
// activations against std::, the guard, and the unchecked kernel against the checked one.
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

// One column through the kernel: pre-activations in; activations, losses and gradients out.
template <typename T>
struct KernelRun {
    std::vector<T> mu, pi, th, g_mu, g_pi, g_th, loss;
    kernel::CellLoss result;
    KernelRun(const std::vector<T>& y, const std::vector<T>& lgy1, const std::vector<T>& pm, const std::vector<T>& pp,
              const std::vector<T>& pt, T size_factor, bool zi, bool checked, bool guarded = false) {
        const auto genes = static_cast<Eigen::Index>(y.size());
        for (auto* v : {&mu, &pi, &th, &g_mu, &g_pi, &g_th, &loss}) v->assign(y.size(), T(-7));
        const kernel::Column<T> c{pm.data(), pp.data(), pt.data(), size_factor, mu.data(), pi.data(), th.data(),
                                  g_mu.data(), g_pi.data(), g_th.data(), loss.data()};
        kernel::CountBatch<T> counts;
        counts.resize(genes, 1);
        counts.set_dense(0, y.data(), lgy1.data());
        kernel::Packed<T> pk;
        pk.resize(genes);
        result = kernel::pick<T, false>(zi, true, checked)(c, counts.cell(0), kernel::GeneTerms<T>{}, genes, T(0.05), guarded, pk);
    }
};

TEST_CASE("every element of a column matches zinb_element, whichever pass handles its count") {
    const double ys[] = {0, 1, 2, 6, 7, 0, 2.5, 0.5, 40, 0, 3, 1000};
    const int genes = sizeof ys / sizeof ys[0];
    const double s = 1.7;  // the cell's size factor
    for (LossKind kind : {LossKind::zinb_original, LossKind::nb}) {
        CAPTURE(to_string(kind));
        const bool zi = kind != LossKind::nb;
        std::vector<double> y(ys, ys + genes), lgy1(genes), pm(genes), pp(genes), pt(genes);
        for (int i = 0; i < genes; ++i) {
            lgy1[i] = std::lgamma(y[i] + 1);
            pm[i] = -1.0 + 0.4 * i;  // mu from 0.37 s to 30 s
            pp[i] = -2.2 + 0.5 * i;  // pi from 0.1 to 0.96
            pt[i] = 2.0 - 0.5 * i;   // theta from 2.1 down to ~0.004, through softplus
        }
        const KernelRun<double> k(y, lgy1, pm, pp, pt, s, zi, true);
        double sum = 0;
        for (int i = 0; i < genes; ++i) {
            CAPTURE(y[i]);
            // The activations, against std:: (all inside the heads' bounds here).
            const double mu = s * std::exp(pm[i]), pi = zi ? sigmoid(pp[i]) : 0.0, th = softplus(pt[i]);
            CHECK(k.mu[i] == doctest::Approx(mu).epsilon(1e-14));
            CHECK(k.th[i] == doctest::Approx(th).epsilon(1e-14));
            if (zi) CHECK(k.pi[i] == doctest::Approx(pi).epsilon(1e-14));
            else CHECK(k.pi[i] == -7);  // not written without zero inflation
            double dpi, dmu, dth;
            const double ref = zinb_element<double>(y[i], pi, mu, theta_terms(th), lgy1[i], kind, 0.05, dpi, dmu, dth);
            sum += ref;
            CHECK(k.loss[i] == doctest::Approx(ref).epsilon(1e-9));
            // The kernel returns gradients w.r.t. pre-activations: the chain factors of the heads.
            CHECK(k.g_mu[i] == doctest::Approx(dmu * mu).epsilon(1e-8));
            CHECK(k.g_th[i] == doctest::Approx(dth * sigmoid(pt[i])).epsilon(1e-8));
            if (zi) CHECK(k.g_pi[i] == doctest::Approx(dpi * pi * (1 - pi)).epsilon(1e-8));
        }
        CHECK(k.result.sum == doctest::Approx(sum).epsilon(1e-9));
        CHECK(k.result.used == genes);
    }
}

TEST_CASE("heads at their bounds: clamped activations, no gradient through the clamp") {
    // mu's pre-activation beyond log(1e6) and below log(1e-5); theta's beyond 1e4 and below 1e-4.
    const std::vector<double> y = {0, 3, 0, 3}, lgy1 = {0, std::lgamma(4.0), 0, std::lgamma(4.0)};
    const std::vector<double> pm = {20, 20, -20, -20}, pp = {0, 0, 0, 0}, pt = {1e5, 1e5, -20, -20};
    const KernelRun<double> k(y, lgy1, pm, pp, pt, 2.0, true, true);
    for (int i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(k.mu[i] == doctest::Approx(2.0 * (i < 2 ? kMuMax : kMuMin)));
        CHECK(k.th[i] == doctest::Approx(i < 2 ? kThetaHeadMax : kThetaMin));
        CHECK(k.g_mu[i] == 0);
        CHECK(k.g_th[i] == 0);
        CHECK(std::isfinite(k.loss[i]));
        CHECK(k.g_pi[i] != 0);
    }
}

TEST_CASE("the guarded kernel leaves out non-finite elements and zeroes their gradient") {
    const std::vector<float> y = {0, 2, 0, 5}, lgy1 = {0, std::lgamma(3.0f), 0, std::lgamma(6.0f)};
    const std::vector<float> pm = {0.5f, std::nanf(""), 0.1f, 1.0f}, pp = {0, 0, 0, 0}, pt = {0, 0, std::nanf(""), 0};
    const KernelRun<float> plain(y, lgy1, pm, pp, pt, 1.0f, true, true, false);
    CHECK(std::isnan(plain.result.sum));
    CHECK(plain.result.used == 4);
    const KernelRun<float> guarded(y, lgy1, pm, pp, pt, 1.0f, true, true, true);
    CHECK(guarded.result.used == 2);
    CHECK(guarded.result.sum == doctest::Approx(plain.loss[0] + plain.loss[3]));
    for (int i : {1, 2}) {
        CHECK(guarded.g_mu[i] == 0);
        CHECK(guarded.g_th[i] == 0);
        CHECK(guarded.g_pi[i] == 0);
    }
    for (int i : {0, 3}) {
        CHECK(guarded.g_mu[i] == plain.g_mu[i]);
        CHECK(guarded.g_mu[i] != 0);
    }
}

// Float columns over the bounded heads' whole range, extremes included (pre-activations beyond
// every bound, size factors 0.05..20, pi 0 and 1, counts 0 to 1e4 and fractional): the unchecked
// kernel must give what the checked one gives. The only difference allowed is exp's underflow
// (~1e-38 instead of 0), far below float resolution of the results, and rounding.
TEST_CASE("the unchecked float kernel matches the checked one over the bounded heads' range") {
    Rng rng(7);
    const int genes = 4000;
    std::vector<float> y(genes), lgy1(genes), pm(genes), pp(genes), pt(genes);
    for (int i = 0; i < genes; ++i) {
        const double u = rng.uniform();
        y[i] = u < 0.5 ? 0.0f : u < 0.8 ? static_cast<float>(1 + i % 6) : u < 0.95 ? static_cast<float>(rng.uniform() * 1e4) : 2.5f;
        lgy1[i] = static_cast<float>(std::lgamma(static_cast<double>(y[i]) + 1));
        pm[i] = static_cast<float>(rng.uniform() * 40 - 20);  // beyond both mu bounds' logs
        pt[i] = static_cast<float>(rng.uniform() * 40 - 20);
        pp[i] = i % 7 == 0 ? -200.0f : i % 7 == 1 ? 200.0f : static_cast<float>(rng.uniform() * 40 - 20);  // pi 0 and 1
    }
    for (float s : {0.05f, 1.0f, 20.0f}) {
        CAPTURE(s);
        const KernelRun<float> a(y, lgy1, pm, pp, pt, s, true, true), b(y, lgy1, pm, pp, pt, s, true, false);
        CHECK(std::isfinite(a.result.sum));
        CHECK(b.result.sum == doctest::Approx(a.result.sum).epsilon(1e-6));
        auto close = [](float u, float v) { return std::fabs(u - v) <= 1e-6f * std::max(1.0f, std::fabs(u)); };
        int bad = 0;
        for (int i = 0; i < genes; ++i) {
            // The loss of a large count holds lgamma(y + theta) - lgamma(theta), each ~y log y, whose
            // float rounding (a few ulps, which may differ between two compilations) sets its scale.
            const float scale = std::max(1.0f, y[i] * std::log(y[i] + 1.0f));
            const bool ok = std::fabs(a.loss[i] - b.loss[i]) <= 1e-6f * std::max(scale, std::fabs(a.loss[i])) &&
                            close(a.g_mu[i], b.g_mu[i]) && close(a.g_pi[i], b.g_pi[i]) && close(a.g_th[i], b.g_th[i]) &&
                            close(a.mu[i], b.mu[i]) && close(a.pi[i], b.pi[i]) && close(a.th[i], b.th[i]);
            if (!ok)
                MESSAGE("gene " << i << " y " << y[i] << " pre " << pm[i] << " " << pp[i] << " " << pt[i] << ": " << a.loss[i] << " "
                                << b.loss[i] << " " << a.g_mu[i] << " " << b.g_mu[i] << " " << a.g_pi[i] << " " << b.g_pi[i] << " "
                                << a.g_th[i] << " " << b.g_th[i]);
            bad += !ok;
        }
        CHECK(bad == 0);
    }
}
