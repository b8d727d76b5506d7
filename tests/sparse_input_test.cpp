// The sparse input layer: gather_axpy against a plain loop, the gene-major transposition against
// the cells it came from, and the network's sparse path against its dense path (forward outputs,
// every gradient, BatchNorm recalibration), which the gradient checks of network_test.cpp cover.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "network.hpp"
#include "rng.hpp"
#include "test_util.hpp"
#include "thread_pool.hpp"

using namespace zimpute;

namespace {

// Cells with ~40% of genes non-zero (genes ascending), values and a zero-count input per gene.
struct RandomCells {
    std::vector<std::vector<std::int32_t>> genes;
    std::vector<std::vector<double>> values;
    Eigen::VectorXd zero;
};

RandomCells random_cells(Eigen::Index genes, Eigen::Index cells, std::uint64_t seed, double density = 0.4) {
    Rng rng(seed);
    RandomCells r{std::vector<std::vector<std::int32_t>>(static_cast<std::size_t>(cells)),
                  std::vector<std::vector<double>>(static_cast<std::size_t>(cells)), Eigen::VectorXd(genes)};
    for (Eigen::Index g = 0; g < genes; ++g) r.zero(g) = rng.normal();
    for (std::size_t k = 0; k < static_cast<std::size_t>(cells); ++k)
        for (Eigen::Index g = 0; g < genes; ++g)
            if (rng.uniform() < density) {
                r.genes[k].push_back(static_cast<std::int32_t>(g));
                r.values[k].push_back(1.0 + rng.normal());
            }
    return r;
}

template <typename T>
void fill(SparseInput<T>& x, const RandomCells& r) {
    x.resize(r.zero.size(), static_cast<Eigen::Index>(r.genes.size()));
    x.set_zero(r.zero);
    for (std::size_t k = 0; k < r.genes.size(); ++k) {
        T* v = x.set_cell(static_cast<Eigen::Index>(k), r.genes[k].data(), static_cast<Eigen::Index>(r.genes[k].size()));
        for (std::size_t e = 0; e < r.values[k].size(); ++e) v[e] = static_cast<T>(r.values[k][e]);
    }
}

}  // namespace

TEST_CASE("gather_axpy_rows: every row count and entry count against a plain loop") {
    Rng rng(3);
    const Eigen::Index ld = 131, cols = 40;
    Eigen::MatrixXd w(ld, cols);
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = rng.normal();
    for (Eigen::Index rows : {1, 7, 8, 9, 31, 32, 33, 64, 65, 100, 131})
        for (Eigen::Index n : {0, 1, 5, 40}) {
            std::vector<std::int32_t> idx;
            std::vector<double> v;
            for (Eigen::Index e = 0; e < n; ++e) {
                idx.push_back(static_cast<std::int32_t>((e * 7) % cols));
                v.push_back(rng.normal());
            }
            Eigen::VectorXd s(rows), out(rows), expect(rows);
            for (Eigen::Index r = 0; r < rows; ++r) s(r) = rng.normal();
            const double a = 0.75;
            for (Eigen::Index r = 0; r < rows; ++r) {
                expect(r) = a * s(r);
                for (Eigen::Index e = 0; e < n; ++e) expect(r) += v[static_cast<std::size_t>(e)] * w(r, idx[static_cast<std::size_t>(e)]);
            }
            gather_axpy_rows<double>(w.data(), ld, idx.data(), v.data(), n, a, s.data(), out.data(), rows);
            CAPTURE(rows);
            CAPTURE(n);
            CHECK((out - expect).cwiseAbs().maxCoeff() < 1e-12);
            // float: the chunk widths differ (64 and 32 rows), the result must not.
            const Eigen::MatrixXf wf = w.cast<float>();
            const std::vector<float> vf(v.begin(), v.end());
            const Eigen::VectorXf sf = s.cast<float>();
            Eigen::VectorXf outf(rows);
            gather_axpy_rows<float>(wf.data(), ld, idx.data(), vf.data(), n, 0.75f, sf.data(), outf.data(), rows);
            CHECK((outf.cast<double>() - expect).cwiseAbs().maxCoeff() < 1e-4);
        }
}

TEST_CASE("SparseInput: dense columns, gene order check, bounds") {
    const RandomCells r = random_cells(50, 6, 11);
    SparseInput<double> x;
    fill(x, r);
    Eigen::MatrixXd dense(50, 6);
    x.to_dense(6, dense.data());
    for (Eigen::Index k = 0; k < 6; ++k) {
        Eigen::VectorXd expect = r.zero;
        for (std::size_t e = 0; e < r.genes[static_cast<std::size_t>(k)].size(); ++e)
            expect(r.genes[static_cast<std::size_t>(k)][e]) += r.values[static_cast<std::size_t>(k)][e];
        CHECK(dense.col(k).isApprox(expect, 1e-15));
    }
    const std::int32_t ok[] = {0, 3, 49}, repeat[] = {0, 3, 3}, down[] = {4, 3}, high[] = {1, 50};
    CHECK(genes_ascending_below(ok, 3, 50));
    CHECK(genes_ascending_below(ok, 0, 50));
    CHECK_FALSE(genes_ascending_below(repeat, 3, 50));
    CHECK_FALSE(genes_ascending_below(down, 2, 50));
    CHECK_FALSE(genes_ascending_below(high, 2, 50));
    CHECK_THROWS_AS(x.set_cell(6, ok, 3), std::logic_error);   // no slot 6
    CHECK_THROWS_AS(x.set_cell(0, ok, 51), std::logic_error);  // more entries than genes
}

TEST_CASE("ByGene: every entry once, under its gene, cells ascending; blocks of genes do not matter") {
    for (Eigen::Index genes : {5, 128, 129, 300}) {
        const RandomCells r = random_cells(genes, 9, static_cast<std::uint64_t>(genes));
        SparseInput<float> x;
        fill(x, r);
        const Eigen::Index b = 7;  // not every slot: cells 7 and 8 must not appear
        ByGene<float> by;
        by.build(x, b);
        Eigen::MatrixXf seen = Eigen::MatrixXf::Zero(genes, b);
        Eigen::Index total = 0, expect_total = 0;
        for (Eigen::Index k = 0; k < b; ++k) expect_total += x.cell(k).n;
        for (Eigen::Index g = 0; g < genes; ++g) {
            const SparseEntries<float> e = by.gene(g);
            for (Eigen::Index i = 0; i < e.n; ++i) {
                REQUIRE(e.index[i] >= 0);
                REQUIRE(e.index[i] < b);
                if (i > 0) CHECK(e.index[i] > e.index[i - 1]);
                seen(g, e.index[i]) += e.value[i] + 1000.0f;  // + 1000: a zero value still counts
            }
            total += e.n;
        }
        CHECK(total == expect_total);
        for (Eigen::Index k = 0; k < b; ++k) {
            const SparseEntries<float>& c = x.cell(k);
            for (Eigen::Index e = 0; e < c.n; ++e) CHECK(seen(c.index[e], k) == c.value[e] + 1000.0f);
            CHECK((seen.col(k).array() != 0).count() == c.n);
        }
    }
}

TEST_CASE("the network's sparse input path equals its dense path: outputs, gradients, recalibration") {
    const Eigen::Index genes = 37, b = 6;
    const RandomCells r = random_cells(genes, b, 5);
    SparseInput<double> xs;
    fill(xs, r);
    Eigen::MatrixXd x(genes, b);
    xs.to_dense(b, x.data());
    Eigen::MatrixXd y(genes, b), lgy1(genes, b);
    Rng rng(9);
    for (Eigen::Index i = 0; i < y.size(); ++i) {
        y.data()[i] = rng.uniform() < 0.5 ? 0.0 : static_cast<double>(rng.poisson(2.0));
        lgy1.data()[i] = std::lgamma(y.data()[i] + 1.0);
    }
    const Eigen::VectorXd sf = Eigen::VectorXd::LinSpaced(b, 0.6, 1.4);
    NetworkOptions o;
    o.hidden = {70, 9, 70};  // wider than a register chunk, not a multiple of one
    for (bool bn : {true, false}) {
        o.batchnorm = bn;
        CAPTURE(bn);
        Network<double> dense(genes, o, 4, b), sparse(genes, o, 4, b);
        dense.forward(x.data(), sf.data(), b, true);
        sparse.forward(xs, sf.data(), b, true);
        CHECK((dense.mu(b) - sparse.mu(b)).cwiseAbs().maxCoeff() < 1e-10 * dense.mu(b).cwiseAbs().maxCoeff());
        CHECK(dense.theta(b).isApprox(sparse.theta(b), 1e-10));
        CHECK(dense.pi(b).isApprox(sparse.pi(b), 1e-10));
        const LossOptions loss;
        CHECK(dense.loss_and_head_gradient(y.data(), lgy1.data(), b, loss) ==
              doctest::Approx(sparse.loss_and_head_gradient(y.data(), lgy1.data(), b, loss)).epsilon(1e-12));
        dense.backward(b);
        sparse.backward(b);
        CHECK(test::relative_error(sparse.grads, dense.grads) < 1e-10);
        CHECK(dense.running_mean.isApprox(sparse.running_mean, 1e-12));

        dense.recalibrate_batchnorm(x.data(), b);
        sparse.recalibrate_batchnorm_sparse(b, [&](Eigen::Index start, Eigen::Index) -> const SparseInput<double>& {
            REQUIRE(start == 0);
            return xs;
        });
        if (bn) {
            CHECK(dense.running_mean.isApprox(sparse.running_mean, 1e-10));
            CHECK(dense.running_var.isApprox(sparse.running_var, 1e-10));
        }
    }
}

TEST_CASE("sparse path in float: two threads agree with one") {
    // To float rounding, not bit for bit (README, option `threads`): other parts of a batch round
    // differently when split.
    // Every gene column of the input layer's gradient and every cell of its product must still
    // come out, whichever thread computes it.
    const Eigen::Index genes = 300, b = 12;
    const RandomCells r = random_cells(genes, b, 8);
    SparseInput<float> xs;
    fill(xs, r);
    const Eigen::VectorXf sf = Eigen::VectorXf::Ones(b);
    Eigen::MatrixXf y = Eigen::MatrixXf::Zero(genes, b), lgy1 = Eigen::MatrixXf::Zero(genes, b);
    for (Eigen::Index k = 0; k < b; ++k) y(k * 7 % genes, k) = 2, lgy1(k * 7 % genes, k) = std::log(2.0f);
    Network<float> one(genes, NetworkOptions{}, 2, b), two(genes, NetworkOptions{}, 2, b);
    ThreadPool pool(2);
    two.set_pool(&pool, 2);
    for (Network<float>* n : {&one, &two}) {
        n->forward(xs, sf.data(), b, true);
        n->loss_and_head_gradient(y.data(), lgy1.data(), b, LossOptions{});
        n->backward(b);
    }
    CHECK(one.mu(b).isApprox(two.mu(b), 1e-5f));
    const Eigen::VectorXd g1 = one.grads.cast<double>(), g2 = two.grads.cast<double>();
    CHECK(test::relative_error(g1.head(64 * genes), g2.head(64 * genes)) < 1e-4);
    CHECK(test::relative_error(g1, g2) < 1e-4);
}
