// The ZINB head on its own: its activations against std:: formulas, its loss against
// zinb_element, and the gradient it leaves in dpre() against finite differences of its loss in
// double (w.r.t. every pre-activation in use and, with one theta per gene, every theta parameter).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rng.hpp"
#include "test_util.hpp"
#include "zinb_head.hpp"

using namespace zimpute;
using Md = Eigen::MatrixXd;

namespace {

constexpr int kGenes = 6, kCells = 4;

struct Inputs {
    Md pre, y, lgy1;
    Eigen::VectorXd sf, theta_params;
};

Inputs make_inputs(std::uint64_t seed) {
    Rng rng(seed);
    Inputs in{Md(3 * kGenes, kCells), Md(kGenes, kCells), Md(kGenes, kCells), Eigen::VectorXd(kCells),
              Eigen::VectorXd(kGenes)};
    for (int j = 0; j < kCells; ++j) {
        in.sf(j) = 0.5 + rng.uniform();
        for (int r = 0; r < 3 * kGenes; ++r) in.pre(r, j) = rng.normal();
        for (int i = 0; i < kGenes; ++i) {
            in.y(i, j) = rng.uniform() < 0.4 ? 0.0 : static_cast<double>(rng.poisson(3.0)) + (i == 5 ? 0.5 : 0.0);
            in.lgy1(i, j) = std::lgamma(in.y(i, j) + 1);
        }
    }
    for (int i = 0; i < kGenes; ++i) in.theta_params(i) = rng.normal();
    return in;
}

double clamp(double x, double lo, double hi) { return std::min(hi, std::max(lo, x)); }
double theta_of(double p, bool softplus) { return clamp(softplus ? std::log1p(std::exp(p)) : std::exp(p), 1e-4, 1e4); }

NetworkOptions options(bool per_gene, bool zi, bool softplus) {
    NetworkOptions o;
    o.hidden = {3};
    o.dispersion = per_gene ? Dispersion::gene : Dispersion::cell_gene;
    o.zero_inflated = zi;
    o.theta_activation = softplus ? ThetaActivation::softplus : ThetaActivation::exp;
    return o;
}

}  // namespace

TEST_CASE("activations: mu, pi and theta against std::, gene range by gene range") {
    for (bool per_gene : {false, true})
        for (bool softplus : {true, false}) {
            CAPTURE(per_gene);
            CAPTURE(softplus);
            const NetworkOptions o = options(per_gene, true, softplus);
            const ParamLayout layout(kGenes, o);
            ZinbHead<double> head(layout, o, kCells);
            Inputs in = make_inputs(3);
            in.pre(0, 0) = 40;    // mu beyond its upper bound
            in.pre(1, 1) = -40;   // and its lower one
            head.pre() = in.pre;
            head.set_size_factors(in.sf.data(), kCells);
            head.activate_gene_theta(in.theta_params.data(), kCells);
            head.activate(kCells, 0, 2);  // two calls, as two threads would
            head.activate(kCells, 2, kGenes);
            for (int j = 0; j < kCells; ++j)
                for (int i = 0; i < kGenes; ++i) {
                    CHECK(head.mu(kCells)(i, j) == doctest::Approx(in.sf(j) * clamp(std::exp(in.pre(i, j)), 1e-5, 1e6)));
                    CHECK(head.pi(kCells)(i, j) == doctest::Approx(1 / (1 + std::exp(-in.pre(layout.pi_row + i, j)))));
                    const double p = per_gene ? in.theta_params(i) : in.pre(layout.theta_row + i, j);
                    CHECK(head.theta(kCells)(i, j) == doctest::Approx(theta_of(p, softplus)));
                }
        }
}

TEST_CASE("loss against zinb_element, gradient against finite differences, each variant") {
    struct Variant {
        bool per_gene, zi, softplus;
        LossKind kind;
    };
    for (const Variant v : {Variant{false, true, true, LossKind::zinb_original}, Variant{false, true, false, LossKind::zinb_guarded},
                            Variant{false, false, true, LossKind::nb}, Variant{true, true, true, LossKind::zinb_original},
                            Variant{true, false, false, LossKind::nb}}) {
        CAPTURE(v.per_gene);
        CAPTURE(v.zi);
        CAPTURE(v.softplus);
        CAPTURE(to_string(v.kind));
        const NetworkOptions o = options(v.per_gene, v.zi, v.softplus);
        const ParamLayout layout(kGenes, o);
        ZinbHead<double> head(layout, o, kCells);
        const Inputs in = make_inputs(8);
        const LossOptions loss{v.kind, 0.1};
        // Everything the loss depends on, as one vector: the pre-activations in use (the head
        // layer's rows), then the per-gene theta parameters.
        const Eigen::Index rows = layout.head_rows, n_pre = rows * kCells;
        Eigen::VectorXd x(n_pre + (v.per_gene ? kGenes : 0));
        Eigen::Map<Md>(x.data(), rows, kCells) = in.pre.topRows(rows);
        if (v.per_gene) x.tail(kGenes) = in.theta_params;
        auto f = [&] {
            head.pre().topLeftCorner(rows, kCells) = Eigen::Map<const Md>(x.data(), rows, kCells);
            head.set_size_factors(in.sf.data(), kCells);
            head.activate_gene_theta(x.data() + n_pre, kCells);
            return head.loss_and_gradient(in.y.data(), in.lgy1.data(), kCells, loss);
        };
        const double value = f();
        Eigen::VectorXd analytic(x.size());
        Eigen::Map<Md>(analytic.data(), rows, kCells) = head.dpre().topLeftCorner(rows, kCells);
        if (v.per_gene) analytic.tail(kGenes) = head.dpre().block(layout.theta_row, 0, kGenes, kCells).rowwise().sum();

        double reference = 0;
        for (int j = 0; j < kCells; ++j)
            for (int i = 0; i < kGenes; ++i) {
                double gp, gm, gt;
                reference += zinb_element<double>(in.y(i, j), head.pi(kCells)(i, j), head.mu(kCells)(i, j),
                                                  head.theta(kCells)(i, j), in.lgy1(i, j), v.kind, 0.1, gp, gm, gt);
            }
        CHECK(value == doctest::Approx(reference / (kGenes * kCells)).epsilon(1e-12));

        const Eigen::VectorXd numeric = test::numeric_gradient(x, f, 1e-6);
        CHECK(test::relative_error(analytic, numeric) < 1e-6);
    }
}

TEST_CASE("the loss's activations are the inference path's") {
    const NetworkOptions o = options(false, true, true);
    const ParamLayout layout(kGenes, o);
    ZinbHead<double> head(layout, o, kCells);
    const Inputs in = make_inputs(5);
    head.pre() = in.pre;
    head.set_size_factors(in.sf.data(), kCells);
    head.activate(kCells, 0, kGenes);
    const Md mu = head.mu(kCells), pi = head.pi(kCells), theta = head.theta(kCells);
    head.loss_and_gradient(in.y.data(), in.lgy1.data(), kCells, LossOptions{});
    CHECK((head.mu(kCells) - mu).cwiseAbs().maxCoeff() <= 1e-12 * mu.cwiseAbs().maxCoeff());
    CHECK((head.pi(kCells) - pi).cwiseAbs().maxCoeff() <= 1e-12);
    CHECK((head.theta(kCells) - theta).cwiseAbs().maxCoeff() <= 1e-12 * theta.cwiseAbs().maxCoeff());
}

TEST_CASE("batches and counts that do not fit are refused") {
    const NetworkOptions o = options(false, true, true);
    ZinbHead<double> head(ParamLayout(kGenes, o), o, kCells);
    const Inputs in = make_inputs(1);
    CHECK_THROWS_AS(head.loss_and_gradient(in.y.data(), in.lgy1.data(), 0, LossOptions{}), std::invalid_argument);
    CHECK_THROWS_AS(head.loss_and_gradient(in.y.data(), in.lgy1.data(), kCells + 1, LossOptions{}), std::invalid_argument);
    kernel::CountBatch<double> other;
    other.resize(kGenes + 1, kCells);
    CHECK_THROWS_AS(head.loss_and_gradient(other, 1, LossOptions{}), std::invalid_argument);
}
