// BatchNorm recalibration (network_recalibrate.cpp): the running statistics become the exact
// population statistics of the cells given, whatever the chunks the inputs arrive in.
// (network_test.cpp checks that inference then matches training-mode normalization;
// sparse_input_test.cpp that the sparse form gives the dense form's statistics.)
#include <doctest/doctest.h>

#include <vector>

#include "network.hpp"
#include "rng.hpp"

using namespace zimpute;

namespace {

Eigen::MatrixXd inputs(int genes, int cells) {
    Rng rng(6);
    Eigen::MatrixXd x(genes, cells);
    for (Eigen::Index k = 0; k < x.size(); ++k) x(k) = rng.normal();
    return x;
}

}  // namespace

TEST_CASE("recalibration in chunks of max_batch cells equals one chunk of every cell") {
    NetworkOptions o;
    o.hidden = {6, 3, 6};
    const int genes = 9, cells = 11;
    const Eigen::MatrixXd x = inputs(genes, cells);
    Network<double> whole(genes, o, 4, cells), chunked(genes, o, 4, 3);
    whole.recalibrate_batchnorm(x.data(), cells);
    std::vector<std::pair<Eigen::Index, Eigen::Index>> asked;
    chunked.recalibrate_batchnorm(cells, [&](Eigen::Index start, Eigen::Index count) {
        asked.push_back({start, count});
        return x.data() + start * genes;
    });
    CHECK(asked == std::vector<std::pair<Eigen::Index, Eigen::Index>>{{0, 3}, {3, 3}, {6, 3}, {9, 2}});
    CHECK((chunked.running_mean - whole.running_mean).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((chunked.running_var - whole.running_var).cwiseAbs().maxCoeff() < 1e-12);
    // The first layer's statistics are those of W x + b over the cells, computed here directly.
    const DenseOffsets& l = whole.layout().hidden[0];
    const Eigen::MatrixXd z =
        (Eigen::Map<const Eigen::MatrixXd>(whole.params.data() + l.w, l.out, l.in) * x).colwise() +
        whole.params.segment(l.b, l.out);
    const Eigen::VectorXd mean = z.rowwise().mean();
    const Eigen::VectorXd var = (z.colwise() - mean).array().square().rowwise().mean();
    CHECK((whole.running_mean.segment(l.stats, l.out) - mean).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((whole.running_var.segment(l.stats, l.out) - var).cwiseAbs().maxCoeff() < 1e-12);
    // Every layer's statistics were set: none is left at its initial 0 / 1.
    for (const DenseOffsets& k : whole.layout().hidden) {
        CHECK(!whole.running_mean.segment(k.stats, k.out).isZero());
        CHECK(!whole.running_var.segment(k.stats, k.out).isOnes());
    }
}

TEST_CASE("without BatchNorm recalibration does nothing and reads no input") {
    NetworkOptions o;
    o.batchnorm = false;
    Network<double> net(5, o, 1, 4);
    int calls = 0;
    net.recalibrate_batchnorm(8, [&](Eigen::Index, Eigen::Index) -> const double* {
        ++calls;
        return nullptr;
    });
    CHECK(calls == 0);
    CHECK(net.running_mean.size() == 0);
}
