// The flat parameter layout against hand-worked offsets for tiny networks, and, for every
// combination of options, against an independent count: segments contiguous from 0, without
// overlap or gap, covering params (and the statistics) exactly.
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "network.hpp"
#include "param_layout.hpp"

using namespace zimpute;

namespace {

void check_dense(const DenseOffsets& l, std::vector<Eigen::Index> expected) {
    CHECK(std::vector<Eigen::Index>{l.in, l.out, l.w, l.b, l.gamma, l.beta, l.stats} == expected);
}

// Every segment of params as (offset, length), in no particular order.
std::vector<std::pair<Eigen::Index, Eigen::Index>> segments(const ParamLayout& p) {
    std::vector<std::pair<Eigen::Index, Eigen::Index>> s;
    for (const DenseOffsets& l : p.hidden) {
        s.push_back({l.w, l.in * l.out});
        s.push_back({l.b, l.out});
        if (l.gamma >= 0) s.push_back({l.gamma, l.out});
        if (l.beta >= 0) s.push_back({l.beta, l.out});
    }
    s.push_back({p.head.w, p.head.in * p.head.out});
    s.push_back({p.head.b, p.head.out});
    if (p.theta_param >= 0) s.push_back({p.theta_param, p.genes});
    return s;
}

// Whether the segments tile [0, total) exactly.
bool tiles(std::vector<std::pair<Eigen::Index, Eigen::Index>> s, Eigen::Index total) {
    std::sort(s.begin(), s.end());
    Eigen::Index at = 0;
    for (const auto& [off, len] : s) {
        if (off != at || len < 1) return false;
        at += len;
    }
    return at == total;
}

}  // namespace

TEST_CASE("hand-worked layouts of tiny networks") {
    NetworkOptions o;
    SUBCASE("3 genes, one BatchNorm layer of 2, per cell-gene theta, zero-inflated") {
        o.hidden = {2};
        const ParamLayout p(3, o);
        REQUIRE(p.hidden.size() == 1);
        check_dense(p.hidden[0], {3, 2, 0, 6, 8, 10, 0});  // W 2x3, b, gamma, beta
        check_dense(p.head, {2, 9, 12, 30, -1, -1, -1});   // 9 head rows: mu, pi, theta
        CHECK(p.head_rows == 9);
        CHECK(p.pi_row == 3);
        CHECK(p.theta_row == 6);
        CHECK(p.theta_param == -1);
        CHECK(p.params == 39);
        CHECK(p.stats == 2);
    }
    SUBCASE("3 genes, no BatchNorm, per-gene theta, no pi head") {
        o.hidden = {2};
        o.batchnorm = false;
        o.dispersion = Dispersion::gene;
        o.zero_inflated = false;
        const ParamLayout p(3, o);
        check_dense(p.hidden[0], {3, 2, 0, 6, -1, -1, -1});
        check_dense(p.head, {2, 3, 8, 14, -1, -1, -1});  // mu only
        CHECK(p.pi_row == 6);                             // rows kept at zero
        CHECK(p.theta_row == 3);
        CHECK(p.theta_param == 17);
        CHECK(p.params == 20);
        CHECK(p.stats == 0);
    }
    SUBCASE("4 genes, BatchNorm layers 3-2-3, per-gene theta, zero-inflated") {
        o.hidden = {3, 2, 3};
        o.dispersion = Dispersion::gene;
        const ParamLayout p(4, o);
        REQUIRE(p.hidden.size() == 3);
        check_dense(p.hidden[0], {4, 3, 0, 12, 15, 18, 0});
        check_dense(p.hidden[1], {3, 2, 21, 27, 29, 31, 3});
        check_dense(p.hidden[2], {2, 3, 33, 39, 42, 45, 5});
        check_dense(p.head, {3, 8, 48, 72, -1, -1, -1});  // mu, pi
        CHECK(p.pi_row == 4);
        CHECK(p.theta_row == 8);
        CHECK(p.theta_param == 80);
        CHECK(p.params == 84);
        CHECK(p.stats == 8);
    }
}

TEST_CASE("every variant: segments tile params, statistics tile stats, sizes match an independent count") {
    for (const std::vector<int>& hidden : {std::vector<int>{5}, std::vector<int>{64, 32, 64}, std::vector<int>{7, 1, 4, 9}})
        for (bool bn : {true, false})
            for (Dispersion d : {Dispersion::gene, Dispersion::cell_gene})
                for (bool zi : {true, false}) {
                    NetworkOptions o;
                    o.hidden = hidden;
                    o.batchnorm = bn;
                    o.dispersion = d;
                    o.zero_inflated = zi;
                    const Eigen::Index genes = 37;
                    const ParamLayout p(genes, o);
                    CAPTURE(hidden.size());
                    CAPTURE(bn);
                    CAPTURE(zi);
                    CAPTURE(d == Dispersion::gene);
                    CHECK(tiles(segments(p), p.params));

                    // The count the model file's header is checked against, worked out afresh.
                    Eigen::Index params = 0, stats = 0, in = genes;
                    for (int w : hidden) {
                        params += w * in + w + (bn ? 2 * w : 0);
                        stats += bn ? w : 0;
                        in = w;
                    }
                    const int heads = 1 + zi + (d == Dispersion::cell_gene);
                    params += heads * genes * (in + 1) + (d == Dispersion::gene ? genes : 0);
                    CHECK(p.params == params);
                    CHECK(p.stats == stats);
                    CHECK(p.head_rows == heads * genes);

                    std::vector<std::pair<Eigen::Index, Eigen::Index>> s;
                    for (const DenseOffsets& l : p.hidden)
                        if (bn) s.push_back({l.stats, l.out});
                        else CHECK(l.stats == -1);
                    CHECK(tiles(s, p.stats));
                    // The head rows in use lie inside the head layer's rows; pi and theta rows
                    // are distinct blocks of the 3 x genes output rows.
                    CHECK(p.pi_row != p.theta_row);
                    CHECK(std::max(p.pi_row, p.theta_row) + genes <= 3 * genes);
                    if (zi) CHECK(p.pi_row + genes <= p.head_rows);
                    if (d == Dispersion::cell_gene) CHECK(p.theta_row + genes <= p.head_rows);
                }
}

TEST_CASE("the network allocates and initializes by its layout") {
    NetworkOptions o;
    o.hidden = {6, 3, 6};
    const Network<float> net(11, o, 7, 4);
    const ParamLayout p(11, o);
    CHECK(net.params.size() == p.params);
    CHECK(net.grads.size() == p.params);
    CHECK(net.running_mean.size() == p.stats);
    CHECK(net.running_var.size() == p.stats);
    // Keras' initial values at the layout's offsets: zero biases, gamma 1, beta 0; weights not all zero.
    for (const DenseOffsets& l : p.hidden) {
        CHECK(net.params.segment(l.b, l.out).isZero());
        CHECK(net.params.segment(l.gamma, l.out).isOnes());
        CHECK(net.params.segment(l.beta, l.out).isZero());
        CHECK(!net.params.segment(l.w, l.in * l.out).isZero());
    }
    CHECK(net.params.segment(p.head.b, p.head.out).isZero());
    CHECK(!net.params.segment(p.head.w, p.head.in * p.head.out).isZero());
}

TEST_CASE("invalid shapes are refused") {
    NetworkOptions o;
    CHECK_THROWS_AS(ParamLayout(0, o), std::invalid_argument);
    o.hidden = {};
    CHECK_THROWS_AS(ParamLayout(5, o), std::invalid_argument);
    o.hidden = {4, 0, 4};
    CHECK_THROWS_AS(ParamLayout(5, o), std::invalid_argument);
}
