// The pictures' data (core/pictures): the PCA against a full eigen-decomposition and on a matrix
// whose components are known, k-means and the silhouette's choice of k on separated blobs, the
// silhouette by hand, the normalization, the variable genes, and the counts of the "what
// happened" line against a brute-force count.
#include <doctest/doctest.h>

#include <Eigen/Eigenvalues>
#include <cmath>

#include "../core/pictures.hpp"
#include "../core/rng.hpp"

using namespace zimpute;

namespace {

Eigen::MatrixXf noise(Eigen::Index r, Eigen::Index c, double sd, std::uint64_t seed) {
    Rng rng(seed);
    Eigen::MatrixXf m(r, c);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<float>(sd * (rng.uniform() - 0.5));
    return m;
}

// |correlation| of two rows' values: 1 when the scores agree up to sign.
double abs_corr(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    const Eigen::VectorXd x = a.array() - a.mean(), y = b.array() - b.mean();
    return std::abs(x.dot(y)) / std::sqrt(x.squaredNorm() * y.squaredNorm());
}

}  // namespace

TEST_CASE("pca2: a matrix with two known directions gives their scores") {
    // x = u1 * s1^T * 10 + u2 * s2^T * 3 + small noise, u1 ⟂ u2 unit vectors, s1, s2 centred.
    const Eigen::Index g = 40, n = 200;
    Eigen::VectorXf u1 = Eigen::VectorXf::Zero(g), u2 = Eigen::VectorXf::Zero(g);
    u1.head(20).setConstant(1.0f / std::sqrt(20.0f));
    u2.tail(20).setConstant(1.0f / std::sqrt(20.0f));
    Eigen::VectorXf s1(n), s2(n);
    for (Eigen::Index j = 0; j < n; ++j) {
        s1(j) = std::sin(0.37f * static_cast<float>(j));
        s2(j) = std::cos(0.11f * static_cast<float>(j) + 1.0f);
    }
    s1.array() -= s1.mean();
    s2.array() -= s2.mean();
    const Eigen::MatrixXf x = 10 * u1 * s1.transpose() + 3 * u2 * s2.transpose() + noise(g, n, 0.01, 1);
    const Eigen::MatrixXf p = pca2(x);
    REQUIRE(p.rows() == 2);
    REQUIRE(p.cols() == n);
    CHECK(abs_corr(p.row(0).cast<double>(), (10 * s1).cast<double>()) > 0.9999);
    CHECK(abs_corr(p.row(1).cast<double>(), (3 * s2).cast<double>()) > 0.9999);
    // Scores of an orthonormal projection: their scale is the components' own.
    CHECK(p.row(0).norm() == doctest::Approx(10 * s1.norm()).epsilon(0.01));
    CHECK(p.row(1).norm() == doctest::Approx(3 * s2.norm()).epsilon(0.01));
}

TEST_CASE("pca equals the projection on the top eigenvectors of a full eigen-decomposition") {
    const Eigen::MatrixXf x = noise(30, 80, 2.0, 7) + 0.5f * noise(30, 1, 1.0, 8) * noise(1, 80, 4.0, 9);
    const Eigen::MatrixXd c = x.cast<double>().colwise() - x.cast<double>().rowwise().mean();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c * c.transpose());
    const Eigen::MatrixXf p = pca(x, 4);
    REQUIRE(p.rows() == 4);
    for (int k = 0; k < 4; ++k) {
        const Eigen::VectorXd ref = eig.eigenvectors().col(29 - k).transpose() * c;
        CHECK(abs_corr(p.row(k).cast<double>(), ref) > 0.9999);
        CHECK(p.row(k).cast<double>().norm() == doctest::Approx(ref.norm()).epsilon(1e-4));
    }
}

TEST_CASE("kmeans separates three blobs, the largest first, the same for the same seed") {
    Eigen::MatrixXf pts(2, 60);
    for (int j = 0; j < 60; ++j) {
        const int blob = j < 30 ? 0 : j < 50 ? 1 : 2;  // 30, 20, 10 points
        pts(0, j) = 10.0f * static_cast<float>(blob) + 0.1f * std::sin(static_cast<float>(j));
        pts(1, j) = -5.0f * static_cast<float>(blob) + 0.1f * std::cos(static_cast<float>(j));
    }
    const std::vector<int> a = kmeans(pts, 3, 5);
    for (int j = 0; j < 60; ++j) CHECK(a[static_cast<std::size_t>(j)] == (j < 30 ? 0 : j < 50 ? 1 : 2));
    CHECK(kmeans(pts, 3, 5) == a);
    CHECK(kmeans(pts.leftCols(2), 4, 1).size() == 2);  // k above the points: each its own cluster at most
    // The silhouette picks k = 3 among 2..6.
    CHECK(clusters(pts, 6, 1) == a);
}

TEST_CASE("silhouette against a hand computation") {
    Eigen::MatrixXf pts(1, 4);
    pts << 0, 1, 10, 11;
    // a = 1 for every point; b = 10.5, 9.5, 9.5, 10.5; s = (b - a) / b.
    const double expected = (2 * (9.5 / 10.5) + 2 * (8.5 / 9.5)) / 4;
    CHECK(silhouette(pts, {0, 0, 1, 1}) == doctest::Approx(expected));
    CHECK(silhouette(pts, {0, 0, 0, 0}) == 0);
    CHECK(silhouette(pts, {0, 1, 0, 1}) < 0);  // a poor clustering scores below zero
}

TEST_CASE("log_normalized and most_variable_rows") {
    Eigen::MatrixXf m(3, 3);
    m << 1, 2, 0,   //
        1, 2, 0,    //
        0, 4, 0;    // totals 2, 8, 0: median of the cells with counts 8 (upper middle of 2, 8)
    const Eigen::MatrixXf l = log_normalized(m, {0, 1, 2});
    CHECK(l(0, 0) == doctest::Approx(std::log1p(1.0 / 0.25)));
    CHECK(l(2, 1) == doctest::Approx(std::log1p(4.0)));
    CHECK(l(0, 2) == 0.0f);  // no counts: scale 1
    const Eigen::MatrixXf rows = log_normalized(m, {1}, {2, 0});
    CHECK(rows(0, 0) == doctest::Approx(std::log1p(4.0)));
    CHECK(rows(1, 0) == doctest::Approx(std::log1p(2.0)));
    Eigen::MatrixXf v(4, 3);
    v << 1, 1, 1, 0, 5, 10, 0, 1, 2, 3, 3, 0;
    CHECK(most_variable_rows(v, 2) == std::vector<Eigen::Index>{1, 3});
}

TEST_CASE("make_pictures: counts by brute force, truth pairs, labels or clusters, heatmap rows") {
    const Eigen::Index g = 50, n = 120;
    Rng rng(3);
    Eigen::MatrixXf obs(g, n), imp(g, n), pi(g, n), tru(g, n);
    for (Eigen::Index k = 0; k < obs.size(); ++k) {
        tru.data()[k] = static_cast<float>(static_cast<int>(rng.uniform() * 6));
        obs.data()[k] = rng.uniform() < 0.4 ? 0 : tru.data()[k];
        imp.data()[k] = obs.data()[k] == 0 ? static_cast<float>(rng.uniform() < 0.5 ? 0 : rng.uniform() * 2) : obs.data()[k];
        pi.data()[k] = static_cast<float>(rng.uniform());
    }
    double zeros = 0, filled = 0, one = 0, unsure = 0, drops = 0;
    for (Eigen::Index i = 0; i < g; ++i)
        for (Eigen::Index j = 0; j < n; ++j) {
            if (obs(i, j) != 0) continue;
            zeros += 1;
            filled += imp(i, j) != 0;
            one += imp(i, j) >= 0.5f;
            unsure += pi(i, j) >= 0.4f && pi(i, j) <= 0.6f;
            drops += tru(i, j) != 0;
        }
    PictureOptions o;
    o.truth_points = 1000000;
    o.heat_cells = 20;
    const Pictures p = make_pictures(obs, imp, pi, &tru, {}, o);
    CHECK(p.entries == g * n);
    CHECK(p.zeros == zeros);
    CHECK(p.filled == filled);
    CHECK(p.filled_one == one);
    CHECK(p.unsure == unsure);
    CHECK(p.true_dropouts == drops);
    CHECK(p.truth_true.size() == static_cast<std::size_t>(drops));
    CHECK(p.map_observed.cols() == n);
    CHECK(p.map_imputed.cols() == n);
    CHECK(p.heat_observed.rows() == 30);
    CHECK(p.heat_cells.size() == 20);
    CHECK_FALSE(p.groups_from_labels);
    CHECK(p.group_names.size() >= 2);
    // Heatmap cells come grouped: their groups never decrease (map cells are all cells here).
    for (std::size_t j = 1; j < p.heat_cells.size(); ++j)
        CHECK(p.group[static_cast<std::size_t>(p.heat_cells[j - 1])] <= p.group[static_cast<std::size_t>(p.heat_cells[j])]);
    o.truth_points = 10;
    CHECK(make_pictures(obs, imp, pi, &tru, {}, o).truth_true.size() <= 10);
    // Imputed values with two kinds of cell (every third cell high in the first 10 genes): the
    // clusters keep them apart, and the observed counts do not matter to them.
    Eigen::MatrixXf two = imp;
    for (Eigen::Index j = 0; j < n; j += 3) two.col(j).head(10).array() += 40;
    const Pictures t = make_pictures(obs, two, pi, nullptr, {}, o);
    for (Eigen::Index j = 0; j < n; ++j)
        for (Eigen::Index k = 0; k < n; ++k)
            if ((j % 3 == 0) != (k % 3 == 0)) REQUIRE(t.group[static_cast<std::size_t>(j)] != t.group[static_cast<std::size_t>(k)]);
    // Labels that look like groups colour the map; ids (every value distinct) do not.
    std::vector<std::string> labels, ids;
    for (Eigen::Index j = 0; j < n; ++j) {
        labels.push_back(j % 2 ? "B" : "A");
        ids.push_back("cell" + std::to_string(j));
    }
    const Pictures l = make_pictures(obs, imp, pi, nullptr, labels, o);
    CHECK(l.groups_from_labels);
    CHECK(l.group_names == std::vector<std::string>{"A", "B"});
    CHECK(l.group[1] == 1);
    CHECK(l.truth_true.empty());
    CHECK_FALSE(make_pictures(obs, imp, pi, nullptr, ids, o).groups_from_labels);
}

TEST_CASE("heatmap genes: the rows that tell the groups apart, by the share of variance between groups") {
    // Worked by hand, groups {0,0,1,1}: [1,2,3,4] has means 1.5 | 3.5 around 2.5: 4 of its 5 squared
    // deviations lie between the groups (0.8); [1,3,2,4]: 1 of 5 (0.2); [4,1,4,1]: none.
    Eigen::MatrixXf x(3, 4);
    x << 1, 3, 2, 4,
         4, 1, 4, 1,
         1, 2, 3, 4;
    CHECK(rows_telling_groups_apart(x, {0, 0, 1, 1}, 3) == std::vector<Eigen::Index>{2, 0, 1});
    CHECK(rows_telling_groups_apart(x, {0, 0, 1, 1}, 1) == std::vector<Eigen::Index>{2});
    // One group (or none): the rows in their given order.
    CHECK(rows_telling_groups_apart(x, {0, 0, 0, 0}, 2) == std::vector<Eigen::Index>{0, 1});
    // A noisy row of large variance loses to a quiet row whose groups differ.
    Rng rng(3);
    Eigen::MatrixXf y(2, 200);
    std::vector<int> g(200);
    for (int j = 0; j < 200; ++j) {
        g[static_cast<std::size_t>(j)] = j % 2;
        y(0, j) = static_cast<float>(10 * rng.normal());
        y(1, j) = static_cast<float>((j % 2) + 0.1 * rng.normal());
    }
    CHECK(rows_telling_groups_apart(y, g, 1) == std::vector<Eigen::Index>{1});
}
