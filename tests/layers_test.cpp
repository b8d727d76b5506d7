// Finite-difference checks of each layer's backward pass, in double. The objective is
// f = sum(R .* output) for a fixed random R, so df/doutput = R.
#include <doctest/doctest.h>

#include "layers.hpp"
#include "test_util.hpp"

using namespace zimpute;
using Md = Eigen::MatrixXd;
using Vd = Eigen::VectorXd;

TEST_CASE("dense layer gradients") {
    const int in = 5, out = 4, n = 3;
    Vd w = Vd::Random(out * in), b = Vd::Random(out);
    const Md x = Md::Random(in, n), r = Md::Random(out, n);
    auto f = [&] {
        Md y(out, n);
        dense_forward<double>(MatMap<double>(w.data(), out, in), VecMap<double>(b.data(), out), x, y);
        return (y.array() * r.array()).sum();
    };
    Vd dw(out * in), db(out);
    MatMap<double> dW(dw.data(), out, in);
    VecMap<double> dB(db.data(), out);
    dense_backward<double>(x, r, dW, dB);
    CHECK(test::relative_error(dw, test::numeric_gradient(w, f)) < 1e-7);
    CHECK(test::relative_error(db, test::numeric_gradient(b, f)) < 1e-7);
    // input gradient, formed by the caller as W^T dout
    Md xv = x;
    Vd xflat = Eigen::Map<Vd>(xv.data(), xv.size());
    auto fx = [&] {
        Md xx = Eigen::Map<Md>(xflat.data(), in, n), y(out, n);
        dense_forward<double>(MatMap<double>(w.data(), out, in), VecMap<double>(b.data(), out), xx, y);
        return (y.array() * r.array()).sum();
    };
    const Md dx = MatMap<double>(w.data(), out, in).transpose() * r;
    CHECK(test::relative_error(Eigen::Map<const Vd>(dx.data(), dx.size()), test::numeric_gradient(xflat, fx)) < 1e-7);
}

TEST_CASE("batchnorm (training mode) gradients w.r.t. input, gamma and beta") {
    const int o = 4, n = 6;
    Vd z = Vd::Random(o * n), gamma = Vd::Random(o), beta = Vd::Random(o);
    const Md r = Md::Random(o, n);
    const double eps = 1e-3;
    auto f = [&] {
        Md zh = Eigen::Map<Md>(z.data(), o, n), y(o, n);
        Vd mean(o), invstd(o);
        batchnorm_forward_train<double>(zh, mean, invstd, eps);
        batchnorm_affine<double>(VecMap<double>(gamma.data(), o), VecMap<double>(beta.data(), o), zh, y);
        return (y.array() * r.array()).sum();
    };
    Md zh = Eigen::Map<Md>(z.data(), o, n), dy = r;
    Vd mean(o), invstd(o), dg(o), dbt(o);
    batchnorm_forward_train<double>(zh, mean, invstd, eps);
    VecMap<double> dG(dg.data(), o), dB(dbt.data(), o);
    batchnorm_backward<double>(VecMap<double>(gamma.data(), o), zh, invstd, dy, dG, dB);
    CHECK(test::relative_error(Eigen::Map<Vd>(dy.data(), dy.size()), test::numeric_gradient(z, f)) < 1e-6);
    CHECK(test::relative_error(dg, test::numeric_gradient(gamma, f)) < 1e-7);
    CHECK(test::relative_error(dbt, test::numeric_gradient(beta, f)) < 1e-7);
}

TEST_CASE("batchnorm normalizes each feature over the batch; inference uses the given statistics") {
    Md z = Md::Random(3, 50) * 4;
    z.array() += 7;
    Vd mean(3), invstd(3);
    Md zh = z;
    batchnorm_forward_train<double>(zh, mean, invstd, 0.0);
    for (int i = 0; i < 3; ++i) {
        CHECK(std::fabs(zh.row(i).mean()) < 1e-12);
        CHECK(zh.row(i).squaredNorm() / 50 == doctest::Approx(1.0));
    }
    Md zi = z;
    const Vd var = invstd.array().square().inverse();
    batchnorm_forward_infer<double>(zi, mean, var, 0.0);
    CHECK((zi - zh).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("relu passes gradients only where the output is positive") {
    Md a(2, 2);
    a << -1, 2, 0.5, -3;
    relu_forward(a);
    CHECK(a(0, 0) == 0.0);
    CHECK(a(0, 1) == 2.0);
    Md d = Md::Ones(2, 2);
    relu_backward(a, d);
    CHECK(d(0, 0) == 0.0);
    CHECK(d(1, 0) == 1.0);
    CHECK(d(1, 1) == 0.0);
}
