// Whole-network finite-difference gradient checks in double, over every parameter, for each
// architectural variant, through the fused loss/head-gradient pass used in training.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "network.hpp"
#include "rng.hpp"
#include "test_util.hpp"

using namespace zimpute;
using Md = Eigen::MatrixXd;

namespace {

struct Batch {
    Md x, y, lgy1;
    Eigen::VectorXd sf;
};

Batch make_batch(int genes, int cells, std::uint64_t seed) {
    Rng rng(seed);
    Batch b{Md(genes, cells), Md(genes, cells), Md(genes, cells), Eigen::VectorXd(cells)};
    for (int j = 0; j < cells; ++j) {
        b.sf(j) = 0.5 + rng.uniform();
        for (int i = 0; i < genes; ++i) {
            b.y(i, j) = rng.uniform() < 0.4 ? 0.0 : static_cast<double>(rng.poisson(3.0));
            b.lgy1(i, j) = std::lgamma(b.y(i, j) + 1);
            b.x(i, j) = rng.normal();
        }
    }
    return b;
}

// The same batch in float, for the training path.
struct FloatBatch {
    Eigen::MatrixXf x, y, lgy1;
    Eigen::VectorXf sf;
};
FloatBatch to_float(const Batch& b) { return {b.x.cast<float>(), b.y.cast<float>(), b.lgy1.cast<float>(), b.sf.cast<float>()}; }

double check_network(const NetworkOptions& opts, LossKind kind) {
    const int genes = 7, cells = 5;
    Network<double> net(genes, opts, 3, cells);
    // Moderate weights keep activations away from the clipping bounds. Biases start at exactly 0,
    // so a cell whose inputs to a layer are all zero sits on a ReLU kink, where central
    // differences are meaningless; a random offset moves every unit off it.
    net.params *= 0.7;
    Rng jitter(5);
    for (Eigen::Index k = 0; k < net.params.size(); ++k) net.params(k) += 0.2 * (jitter.uniform() - 0.5);
    const Batch b = make_batch(genes, cells, 11);
    const LossOptions loss{kind, 0.1};
    auto f = [&] {
        net.forward(b.x.data(), b.sf.data(), cells, true);
        return net.loss_and_head_gradient(b.y.data(), b.lgy1.data(), cells, loss);
    };
    f();
    // backward assigns every entry (it does not clear grads first): a stale NaN would show.
    net.grads.setConstant(std::nan(""));
    net.backward(cells);
    const Eigen::VectorXd analytic = net.grads;
    CHECK(analytic.allFinite());
    const Eigen::VectorXd numeric = test::numeric_gradient(net.params, f, 1e-6);
    return test::relative_error(analytic, numeric);
}

}  // namespace

TEST_CASE("whole-network gradient, every parameter, each variant") {
    NetworkOptions o;
    o.hidden = {5, 3, 4};
    SUBCASE("BatchNorm, per cell-gene theta, softplus, ZINB original") { CHECK(check_network(o, LossKind::zinb_original) < 1e-5); }
    SUBCASE("BatchNorm, ZINB guarded") { CHECK(check_network(o, LossKind::zinb_guarded) < 1e-5); }
    SUBCASE("no BatchNorm") {
        o.batchnorm = false;
        CHECK(check_network(o, LossKind::zinb_original) < 1e-5);
    }
    SUBCASE("per-gene theta with exp activation") {
        o.dispersion = Dispersion::gene;
        o.theta_activation = ThetaActivation::exp;
        CHECK(check_network(o, LossKind::zinb_original) < 1e-5);
    }
    SUBCASE("NB loss without a pi head") {
        o.zero_inflated = false;
        CHECK(check_network(o, LossKind::nb) < 1e-5);
    }
    SUBCASE("the seed's unbounded heads, per cell-gene and per-gene theta") {
        o.batchnorm = false;
        o.clip_heads = false;
        CHECK(check_network(o, LossKind::zinb_original) < 1e-5);
        o.dispersion = Dispersion::gene;
        CHECK(check_network(o, LossKind::zinb_original) < 1e-5);
    }
    SUBCASE("without size-factor scaling of mu, one hidden layer") {
        o.size_factor_mean = false;
        o.hidden = {4};
        CHECK(check_network(o, LossKind::zinb_original) < 1e-5);
    }
}

TEST_CASE("parameter layout: one flat buffer, offsets contiguous and complete") {
    NetworkOptions o;
    o.dispersion = Dispersion::cell_gene;
    Network<float> net(100, o, 1, 8);
    Eigen::Index expected = 0, in = 100;
    for (int w : o.hidden) {
        expected += w * in + w + 2 * w;  // W, b, gamma, beta
        in = w;
    }
    expected += 3 * 100 * in + 3 * 100;  // heads mu, pi, theta
    CHECK(net.params.size() == expected);
    CHECK(net.grads.size() == expected);
    CHECK(net.running_mean.size() == 64 + 32 + 64);
    for (bool bn : {true, false})
        for (Dispersion d : {Dispersion::gene, Dispersion::cell_gene})
            for (bool zi : {true, false}) {
                o.batchnorm = bn;
                o.dispersion = d;
                o.zero_inflated = zi;
                const Network<float> n(37, o, 1, 4);
                CHECK(ParamLayout(37, o).params == n.params.size());
                CHECK(ParamLayout(37, o).stats == n.running_mean.size());
            }
}

TEST_CASE("outputs respect the activation bounds and initialization is seeded") {
    NetworkOptions o;
    Network<float> a(20, o, 5, 4), b(20, o, 5, 4), c(20, o, 6, 4);
    CHECK(a.params == b.params);
    CHECK(a.params != c.params);
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(20, 4) * 50;
    Eigen::VectorXf sf = Eigen::VectorXf::Ones(4);
    a.params *= 30;  // push pre-activations to the bounds
    a.forward(x.data(), sf.data(), 4, true);
    CHECK(a.mu(4).minCoeff() >= 1e-5f);
    CHECK(a.mu(4).maxCoeff() <= 1e6f);
    CHECK(a.theta(4).minCoeff() >= 1e-4f);
    CHECK(a.theta(4).maxCoeff() <= 1e4f);
    CHECK(a.pi(4).minCoeff() >= 0.0f);
    CHECK(a.pi(4).maxCoeff() <= 1.0f);
}

TEST_CASE("without clip_heads, mu overflows to infinity as the seed's plain exp head did") {
    NetworkOptions o;
    o.clip_heads = false;
    Network<float> a(20, o, 5, 4);
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(20, 4) * 50;
    Eigen::VectorXf sf = Eigen::VectorXf::Ones(4);
    a.params *= 30;
    a.forward(x.data(), sf.data(), 4, true);
    // The same weights that the bounded heads keep within [1e-5, 1e6] go past both bounds here.
    CHECK(a.mu(4).maxCoeff() > 1e6f);
    CHECK(a.mu(4).minCoeff() < 1e-5f);
    a.params *= 100;
    a.forward(x.data(), sf.data(), 4, true);
    CHECK_FALSE(a.mu(4).allFinite());
}

TEST_CASE("a NaN in the heads reaches the loss under bounded heads (the cell takes the checked kernel)") {
    // Bounded heads run the loss kernel without special-value handling for cells whose mu, pi
    // and theta are finite; a NaN must still make the original loss NaN and, under the guarded
    // loss, leave exactly the affected elements out.
    NetworkOptions o;
    o.hidden = {8, 4, 8};
    const int genes = 30, cells = 5;
    Network<float> f(genes, o, 3, cells);
    const FloatBatch b = to_float(make_batch(genes, cells, 4));
    // Head bias of gene 3's mu row (head rows: mu, pi, theta, each genes long).
    f.params(ParamLayout(genes, o).head.b + 3) = std::numeric_limits<float>::quiet_NaN();
    f.forward(b.x.data(), b.sf.data(), cells, true);
    CHECK(std::isnan(f.loss_and_head_gradient(b.y.data(), b.lgy1.data(), cells, LossOptions{LossKind::zinb_original, 0.05})));
    Eigen::Index used = 0;
    f.forward(b.x.data(), b.sf.data(), cells, true);
    const double guarded =
        f.loss_and_head_gradient(b.y.data(), b.lgy1.data(), cells, LossOptions{LossKind::zinb_guarded, 0.05}, &used);
    CHECK(std::isfinite(guarded));
    CHECK(used == genes * cells - cells);  // gene 3 of every cell left out, nothing else
}

TEST_CASE("inference with BatchNorm uses running statistics, not the batch") {
    NetworkOptions o;
    o.hidden = {6, 3, 6};
    Network<double> net(5, o, 2, 4);
    Md x = Md::Random(5, 4);
    Eigen::VectorXd sf = Eigen::VectorXd::Ones(4);
    net.forward(x.data(), sf.data(), 4, false);
    const Md one = net.mu(4).leftCols(1);
    net.forward(x.data(), sf.data(), 1, false);  // a batch of one cell gives the same output in inference
    CHECK((net.mu(1) - one).cwiseAbs().maxCoeff() < 1e-12);
    const Eigen::VectorXd before = net.running_mean;
    net.forward(x.data(), sf.data(), 4, true);  // training forward moves the running statistics
    CHECK((net.running_mean - before).norm() > 0);
}

TEST_CASE("float training path (fast log/exp, branch-free kernel) agrees with the double reference") {
    for (bool per_gene : {true, false})
        for (LossKind kind : {LossKind::zinb_guarded, LossKind::zinb_original, LossKind::nb}) {
            CAPTURE(per_gene);
            CAPTURE(to_string(kind));
            NetworkOptions o;
            o.hidden = {16, 8, 16};
            o.dispersion = per_gene ? Dispersion::gene : Dispersion::cell_gene;
            o.zero_inflated = kind != LossKind::nb;
            const int genes = 40, cells = 12;
            Network<double> d(genes, o, 9, cells);
            Network<float> f(genes, o, 9, cells);
            const Batch b = make_batch(genes, cells, 21);
            const FloatBatch fb = to_float(b);
            const LossOptions loss{kind, 0.05};
            d.forward(b.x.data(), b.sf.data(), cells, true);
            f.forward(fb.x.data(), fb.sf.data(), cells, true);
            CHECK((f.mu(cells).cast<double>() - d.mu(cells)).norm() / d.mu(cells).norm() < 1e-5);
            CHECK((f.theta(cells).cast<double>() - d.theta(cells)).norm() / d.theta(cells).norm() < 1e-5);
            const double ld = d.loss_and_head_gradient(b.y.data(), b.lgy1.data(), cells, loss);
            const double lf = f.loss_and_head_gradient(fb.y.data(), fb.lgy1.data(), cells, loss);
            CHECK(lf == doctest::Approx(ld).epsilon(1e-5));
            d.backward(cells);
            f.backward(cells);
            CHECK(test::relative_error(f.grads.cast<double>(), d.grads) < 1e-4);
        }
}

TEST_CASE("BatchNorm recalibration: inference on the training cells then matches training-mode normalization") {
    NetworkOptions o;
    o.hidden = {6, 3, 6};
    const int genes = 8, cells = 10;
    Network<double> net(genes, o, 4, cells);
    const Batch b = make_batch(genes, cells, 5);
    net.recalibrate_batchnorm(b.x.data(), cells);
    // One batch holding every cell: batch statistics are the population statistics.
    net.forward(b.x.data(), b.sf.data(), cells, true);
    const Md train_mu = net.mu(cells);
    net.forward(b.x.data(), b.sf.data(), cells, false);
    CHECK((net.mu(cells) - train_mu).cwiseAbs().maxCoeff() < 1e-6 * train_mu.cwiseAbs().maxCoeff());
}

TEST_CASE("the vectorized loss kernel computes the same loss as zinb_element (checked against the ZINB mass)") {
    for (bool per_gene : {true, false})
        for (LossKind kind : {LossKind::zinb_original, LossKind::nb}) {
            CAPTURE(per_gene);
            CAPTURE(to_string(kind));
            NetworkOptions o;
            o.hidden = {6, 3, 6};
            o.dispersion = per_gene ? Dispersion::gene : Dispersion::cell_gene;
            o.zero_inflated = kind != LossKind::nb;
            const int genes = 9, cells = 7;
            Network<double> net(genes, o, 2, cells);
            const Batch b = make_batch(genes, cells, 3);
            const LossOptions loss{kind, 0.2};
            net.forward(b.x.data(), b.sf.data(), cells, true);
            const double fused = net.loss_and_head_gradient(b.y.data(), b.lgy1.data(), cells, loss);
            double reference = 0;
            for (int j = 0; j < cells; ++j)
                for (int i = 0; i < genes; ++i) {
                    double gp, gm, gt;
                    reference += zinb_element<double>(b.y(i, j), net.pi(cells)(i, j), net.mu(cells)(i, j),
                                                      net.theta(cells)(i, j), b.lgy1(i, j), kind, 0.2, gp, gm, gt);
                }
            CHECK(fused == doctest::Approx(reference / (genes * cells)).epsilon(1e-12));
        }
}
