#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "optimizer.hpp"

using namespace zimpute;
using Vd = Eigen::VectorXd;

namespace {

// f(p) = 1/2 sum a_i (p_i - c_i)^2, minimum at c; an ill-conditioned a tests per-parameter scaling.
double minimize(OptimizerOptions o, int steps) {
    Vd a(4), c(4), p = Vd::Zero(4), g(4);
    a << 1, 10, 0.1, 100;
    c << 1, -2, 0.5, 3;
    OptimizerState<double> s;
    for (int k = 0; k < steps; ++k) {
        g = a.cwiseProduct(p - c);
        optimizer_step<double>(o, s, p, g, o.learning_rate);
    }
    return (p - c).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("Adam converges on a quadratic with a known minimum") {
    OptimizerOptions o;
    o.learning_rate = 0.05;
    CHECK(minimize(o, 3000) < 1e-3);
    CHECK(minimize(o, 5) > 0.1);  // and it is the optimizer, not the start, that gets there
}

TEST_CASE("RMSprop converges on the same quadratic") {
    OptimizerOptions o;
    o.kind = OptimizerKind::rmsprop;
    o.learning_rate = 0.01;
    CHECK(minimize(o, 4000) < 2e-2);
}

TEST_CASE("Adam's first step moves every parameter by the learning rate against the gradient sign") {
    OptimizerOptions o;
    o.learning_rate = 0.1;
    OptimizerState<double> s;
    Vd p = Vd::Zero(3), g(3);
    g << 5, -0.01, 300;
    optimizer_step<double>(o, s, p, g, 0.1);
    CHECK(p(0) == doctest::Approx(-0.1).epsilon(1e-5));
    CHECK(p(1) == doctest::Approx(0.1).epsilon(1e-3));
    CHECK(p(2) == doctest::Approx(-0.1).epsilon(1e-5));
}

TEST_CASE("clipping by global norm and by value; decoupled weight decay") {
    OptimizerOptions o;
    o.kind = OptimizerKind::rmsprop;
    o.clip_norm = 1.0;
    OptimizerState<double> s;
    Vd p = Vd::Zero(2), g(2);
    g << 3, 4;
    const double norm = optimizer_step<double>(o, s, p, g, 0.0);
    CHECK(norm == doctest::Approx(5.0));
    CHECK(g.norm() == doctest::Approx(1.0));
    CHECK(g(0) / g(1) == doctest::Approx(0.75));

    o.clip_norm = 0;
    o.clip_value = 2;
    g << -7, 0.5;
    optimizer_step<double>(o, s, p, g, 0.0);
    CHECK(g(0) == -2.0);
    CHECK(g(1) == 0.5);

    o.clip_value = 0;
    o.weight_decay = 0.5;
    p << 2, -2;
    g.setZero();
    optimizer_step<double>(o, s, p, g, 0.1);
    CHECK(p(0) == doctest::Approx(2 * (1 - 0.05)));
}

TEST_CASE("a non-finite gradient changes nothing and is reported through the returned norm") {
    for (const auto kind : {OptimizerKind::adam, OptimizerKind::rmsprop}) {
        OptimizerOptions o;
        o.kind = kind;
        OptimizerState<float> s;
        Eigen::VectorXf p(3), g(3);
        p << 1, 2, 3;
        g << 0.5f, 0.25f, 1.0f;
        optimizer_step<float>(o, s, p, g, 0.1);  // one good step fills the state
        const Eigen::VectorXf p1 = p, m1 = s.m, v1 = s.v;
        const long steps = s.step;
        for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity(), 3e30f}) {
            g << 0.5f, bad, 1.0f;  // 3e30 is finite, but its square overflows the norm
            CHECK_FALSE(std::isfinite(optimizer_step<float>(o, s, p, g, 0.1)));
            CHECK(p == p1);
            CHECK(s.m == m1);
            CHECK(s.v == v1);
            CHECK(s.step == steps);
        }
    }
}

TEST_CASE("split across a pool, the step gives one thread's norm and parameters and still sees a bad entry anywhere") {
    ThreadPool pool(3);
    Eigen::VectorXf g(1000), p0(1000);
    for (Eigen::Index i = 0; i < g.size(); ++i) {
        g(i) = std::sin(0.37f * static_cast<float>(i));
        p0(i) = std::cos(0.11f * static_cast<float>(i));
    }
    OptimizerOptions o;
    OptimizerState<float> s1, s3;
    Eigen::VectorXf p1 = p0, p3 = p0, g1 = g, g3 = g;
    const double n1 = optimizer_step<float>(o, s1, p1, g1, 0.01);
    const double n3 = optimizer_step<float>(o, s3, p3, g3, 0.01, &pool, 3);
    CHECK(n3 == doctest::Approx(n1).epsilon(1e-6));
    CHECK(n1 == doctest::Approx(g.cast<double>().norm()).epsilon(1e-6));
    CHECK(p3 == p1);
    // A NaN in the last part (the third thread's) must stop the update as one in the first does.
    for (const Eigen::Index at : {Eigen::Index(0), Eigen::Index(999)}) {
        Eigen::VectorXf bad = g, p = p3;
        bad(at) = std::nanf("");
        CHECK_FALSE(std::isfinite(optimizer_step<float>(o, s3, p, bad, 0.01, &pool, 3)));
        CHECK(p == p3);
    }
}
