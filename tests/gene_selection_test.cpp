// Highly variable genes (seurat_v3) against values computed here independently: the loess by a
// brute-force weighted least squares at each point (full sort of distances, raw-x design, Eigen's
// QR), the normalized variance by Seurat's published form (standardized values clipped at sqrt(N),
// their variance around the unclipped mean); then ranking, clipping, invariants, and the selection
// end to end (fit, model file, apply, report).
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "../cli/command.hpp"
#include "count_writer.hpp"
#include "gene_selection.hpp"
#include "preprocess.hpp"
#include "session.hpp"
#include "simulate.hpp"

using namespace zimpute;
using M = Eigen::MatrixXf;

namespace {

double tricube(double u) { return u < 1 ? std::pow(1 - u * u * u, 3) : 0.0; }

// loess (degree 2) at x[i], written out plainly: the q nearest by a full sort, tricube weights on
// distance / the q-th distance, least squares of sqrt(w) * [1 x x^2] by QR, evaluated at x[i].
double loess_at(const std::vector<double>& x, const std::vector<double>& y, std::size_t i, double span) {
    const auto q = static_cast<std::size_t>(std::floor(span * static_cast<double>(x.size())));
    std::vector<std::pair<double, std::size_t>> d;
    for (std::size_t k = 0; k < x.size(); ++k) d.emplace_back(std::fabs(x[k] - x[i]), k);
    std::sort(d.begin(), d.end());
    const double rho = d[q - 1].first;
    Eigen::MatrixXd a(q, 3);
    Eigen::VectorXd b(q);
    for (std::size_t r = 0; r < q; ++r) {
        const std::size_t k = d[r].second;
        const double w = std::sqrt(tricube(d[r].first / rho));
        a.row(static_cast<Eigen::Index>(r)) << w, w * x[k], w * x[k] * x[k];
        b(static_cast<Eigen::Index>(r)) = w * y[k];
    }
    const Eigen::Vector3d beta = a.colPivHouseholderQr().solve(b);
    return beta(0) + beta(1) * x[i] + beta(2) * x[i] * x[i];
}

// A genes x cells matrix of overdispersed counts (Gamma-Poisson), gene means spread over three
// orders of magnitude.
M counts_matrix(int genes, int cells, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> log_mean(-1.5, 2.0), shape(0.5, 5.0);
    M c(genes, cells);
    for (int g = 0; g < genes; ++g) {
        const double mean = std::pow(10.0, log_mean(rng)), k = shape(rng);
        std::gamma_distribution<double> rate(k, mean / k);
        for (int j = 0; j < cells; ++j) c(g, j) = static_cast<float>(std::poisson_distribution<int>(rate(rng))(rng));
    }
    return c;
}

// seurat_v3 by Seurat's own description, every quantity recomputed here: per gene the mean and
// the ddof-1 variance (two passes), the loess of log10 variance on log10 mean over non-constant
// genes (loess_at), sigma = sqrt(10^fit), z = (x - mean) / sigma clipped at sqrt(N), and
// sum(z^2) / (N - 1); constant genes score 0.
std::vector<double> seurat_v3_by_hand(const M& c, double span = 0.3) {
    const auto genes = static_cast<std::size_t>(c.rows());
    const double n = static_cast<double>(c.cols());
    std::vector<double> mean(genes), var(genes), lx, ly, score(genes, 0.0);
    std::vector<std::size_t> varying;
    for (std::size_t g = 0; g < genes; ++g) {
        double s = 0, ss = 0;
        for (Eigen::Index j = 0; j < c.cols(); ++j) s += c(static_cast<Eigen::Index>(g), j);
        mean[g] = s / n;
        for (Eigen::Index j = 0; j < c.cols(); ++j) ss += std::pow(c(static_cast<Eigen::Index>(g), j) - mean[g], 2);
        var[g] = ss / (n - 1);
        if (var[g] > 0) varying.push_back(g), lx.push_back(std::log10(mean[g])), ly.push_back(std::log10(var[g]));
    }
    for (std::size_t k = 0; k < varying.size(); ++k) {
        const std::size_t g = varying[k];
        const double sigma = std::sqrt(std::pow(10.0, loess_at(lx, ly, k, span)));
        double sum = 0;
        for (Eigen::Index j = 0; j < c.cols(); ++j) {
            const double z = std::min((c(static_cast<Eigen::Index>(g), j) - mean[g]) / sigma, std::sqrt(n));
            sum += z * z;
        }
        score[g] = sum / (n - 1);
    }
    return score;
}

std::vector<Eigen::Index> all(Eigen::Index n) {
    std::vector<Eigen::Index> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<Eigen::Index>(i);
    return v;
}

}  // namespace

TEST_CASE("loess equals a brute-force weighted least squares at every point, and reproduces a parabola") {
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(-2, 3);
    std::normal_distribution<double> noise(0, 0.3);
    for (const double span : {0.3, 0.5, 1.0}) {
        std::vector<double> x(47), y(47);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = u(rng), y[i] = std::sin(x[i]) + 0.5 * x[i] + noise(rng);
        const Eigen::VectorXd fit = loess_fit(Eigen::Map<Eigen::VectorXd>(x.data(), 47), Eigen::Map<Eigen::VectorXd>(y.data(), 47), span);
        for (std::size_t i = 0; i < x.size(); ++i)
            CHECK(fit(static_cast<Eigen::Index>(i)) == doctest::Approx(loess_at(x, y, i, span)).epsilon(1e-9));
    }
    // A local quadratic fits a quadratic exactly, wherever the neighbourhood is.
    Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(30, -1, 4), y = 2 - x.array() + 0.5 * x.array().square();
    CHECK((loess_fit(x, y) - y).cwiseAbs().maxCoeff() < 1e-9);
    // All points at one x: the fit there is their mean (the minimum-norm solution).
    CHECK(loess_fit(Eigen::VectorXd::Constant(5, 1.0), (Eigen::VectorXd(5) << 1, 2, 3, 4, 10).finished())(2) ==
          doctest::Approx(4.0));
}

TEST_CASE("seurat_v3 normalized variance equals Seurat's clipped standardized variance, computed by hand") {
    M c = counts_matrix(60, 40, 11);
    c.row(7).setConstant(3);  // a constant gene: no loess, score 0, ranked last
    c.row(9).setZero();
    c(9, 4) = 1;  // a gene seen once
    const SeuratV3 s = seurat_v3(c, all(c.rows()), all(c.cols()));
    const std::vector<double> hand = seurat_v3_by_hand(c);
    for (Eigen::Index g = 0; g < c.rows(); ++g)
        CHECK(s.norm_variance(g) == doctest::Approx(hand[static_cast<std::size_t>(g)]).epsilon(1e-9));
    CHECK(s.constant[7]);
    CHECK(s.fitted(7) == 0.0);
    CHECK(s.norm_variance(7) == 0.0);
    CHECK(s.variance(9) == doctest::Approx(1.0 / 40));  // (1 - 1/40)^2 + 39 (1/40)^2, over 39
    // The ranking: scores descending (to rounding), the constant genes (7, and any all-zero gene)
    // last.
    const std::vector<std::size_t> rank = rank_genes(s);
    const auto constant = static_cast<std::size_t>(std::count(s.constant.begin(), s.constant.end(), true));
    REQUIRE(constant >= 1);
    for (std::size_t k = 0; k < rank.size(); ++k) CHECK(s.constant[rank[k]] == (k >= rank.size() - constant));
    CHECK(std::find(rank.end() - static_cast<std::ptrdiff_t>(constant), rank.end(), std::size_t{7}) != rank.end());
    for (std::size_t k = 1; k < rank.size(); ++k) CHECK(hand[rank[k - 1]] >= hand[rank[k]] * (1 - 1e-9));
    // The selection: the 12 best by the hand-computed scores, in ascending order.
    std::vector<std::size_t> by_hand(hand.size());
    for (std::size_t i = 0; i < by_hand.size(); ++i) by_hand[i] = i;
    std::stable_sort(by_hand.begin(), by_hand.end(), [&](std::size_t a, std::size_t b) { return hand[a] > hand[b]; });
    std::vector<Eigen::Index> expect(by_hand.begin(), by_hand.begin() + 12);
    std::sort(expect.begin(), expect.end());
    CHECK(top_variable_genes(c, all(c.rows()), all(c.cols()), 12) == expect);
}

TEST_CASE("clipping: one cell's outlier would make a gene the most variable; clipped, it is not") {
    M c = counts_matrix(50, 60, 3);
    // Gene 0: zero but for a count of 10 in one cell. Unclipped, its variance over the fitted one
    // is by far the largest; clipped at sigma * sqrt(N) + mean, that cell adds at most N / (N - 1).
    c.row(0).setZero();
    c(0, 10) = 10;
    const SeuratV3 s = seurat_v3(c, all(c.rows()), all(c.cols()));
    std::vector<double> unclipped(50);
    for (Eigen::Index g = 0; g < 50; ++g) unclipped[static_cast<std::size_t>(g)] = s.variance(g) / std::pow(10.0, s.fitted(g));
    CHECK(std::max_element(unclipped.begin(), unclipped.end()) - unclipped.begin() == 0);
    CHECK(unclipped[0] > 1.5 * *std::max_element(unclipped.begin() + 1, unclipped.end()));
    const std::vector<std::size_t> rank = rank_genes(s);
    CHECK(std::find(rank.begin(), rank.end(), std::size_t{0}) - rank.begin() > 10);
    CHECK(s.norm_variance(0) == doctest::Approx(seurat_v3_by_hand(c)[0]).epsilon(1e-9));
    const double n = 60, sigma = std::sqrt(std::pow(10.0, s.fitted(0))), mean = 10 / n;
    REQUIRE((10 - mean) / sigma > std::sqrt(n));  // the outlier is clipped: its z becomes sqrt(N)
    // ... and the 59 zeros each give (mean / sigma)^2.
    CHECK(s.norm_variance(0) == doctest::Approx((n + 59 * std::pow(mean / sigma, 2)) / (n - 1)).epsilon(1e-9));
}

TEST_CASE("invariants: a duplicated gene scores the same; the order of genes does not matter") {
    M c = counts_matrix(40, 30, 8);
    c.row(21) = c.row(5);
    const SeuratV3 s = seurat_v3(c, all(c.rows()), all(c.cols()));
    CHECK(s.norm_variance(21) == s.norm_variance(5));
    // The same genes listed in reverse: the same scores, gene by gene.
    std::vector<Eigen::Index> rev = all(c.rows());
    std::reverse(rev.begin(), rev.end());
    const SeuratV3 r = seurat_v3(c, rev, all(c.cols()));
    for (Eigen::Index k = 0; k < 40; ++k) CHECK(r.norm_variance(39 - k) == doctest::Approx(s.norm_variance(k)).epsilon(1e-12));
    // A subset of cells is what the scores are computed over.
    std::vector<Eigen::Index> half;
    for (Eigen::Index j = 0; j < 30; j += 2) half.push_back(j);
    M sub(40, 15);
    for (Eigen::Index j = 0; j < 15; ++j) sub.col(j) = c.col(half[static_cast<std::size_t>(j)]);
    CHECK(seurat_v3(c, all(40), half).norm_variance.isApprox(seurat_v3(sub, all(40), all(15)).norm_variance, 1e-12));
}

TEST_CASE("fit_preprocess: the count filter's boundaries, then the most variable genes") {
    M c = counts_matrix(30, 20, 4);
    c.row(2).setZero();  // no counts: never imputed
    c.row(3).setZero();
    c(3, 0) = 4;  // 4 counts
    c.row(4).setZero();
    c(4, 1) = 2, c(4, 5) = 3;  // 5 counts
    PreprocessOptions o;
    o.top_genes = 0;
    const Eigen::ArrayXf totals = c.rowwise().sum().array();
    for (const int m : {0, 1}) {  // 0 and 1: every gene with a count
        o.min_gene_counts = m;
        const PreprocessParams p = fit_preprocess(c, o);
        CHECK(p.kept_genes.size() == static_cast<std::size_t>((totals > 0).count()));
        CHECK(std::find(p.kept_genes.begin(), p.kept_genes.end(), 2) == p.kept_genes.end());
        CHECK(p.genes_below_min_counts == 0);
    }
    // Non-integer input (accepted with a warning): a gene of 0.5 counts in all passes 0, not 1.
    Eigen::MatrixXf fractional = c;
    fractional.row(2).setZero();
    fractional(2, 0) = 0.5f;
    o.min_gene_counts = 0;
    const PreprocessParams every = fit_preprocess(fractional, o);
    CHECK(std::find(every.kept_genes.begin(), every.kept_genes.end(), 2) != every.kept_genes.end());
    o.min_gene_counts = 1;
    const PreprocessParams dca = fit_preprocess(fractional, o);
    CHECK(std::find(dca.kept_genes.begin(), dca.kept_genes.end(), 2) == dca.kept_genes.end());
    CHECK(dca.genes_below_min_counts == 1);
    o.min_gene_counts = 5;  // 5 counts is enough, 4 is not
    PreprocessParams p = fit_preprocess(c, o);
    CHECK(std::find(p.kept_genes.begin(), p.kept_genes.end(), 3) == p.kept_genes.end());
    CHECK(std::find(p.kept_genes.begin(), p.kept_genes.end(), 4) != p.kept_genes.end());
    CHECK(p.genes_below_min_counts == ((totals > 0) && (totals < 5)).count());
    CHECK(p.kept_genes.size() == static_cast<std::size_t>((totals >= 5).count()));
    CHECK(p.genes_passing_counts == static_cast<Eigen::Index>(p.kept_genes.size()));
    // top_genes at or above the genes left keeps them all; below, the seurat_v3 choice among them.
    for (const int top : {28, 1000}) {
        o.top_genes = top;
        CHECK(fit_preprocess(c, o).kept_genes == p.kept_genes);
    }
    const std::vector<Eigen::Index> passing = p.kept_genes;
    o.top_genes = 10;
    p = fit_preprocess(c, o);
    CHECK(p.kept_genes == top_variable_genes(c, passing, all(20), 10));
    CHECK(std::is_sorted(p.kept_genes.begin(), p.kept_genes.end()));
    CHECK(p.genes_passing_counts == static_cast<Eigen::Index>(passing.size()));
    CHECK(apply_preprocess(p, c).n_genes() == 10);
    o.min_gene_counts = 100000;
    CHECK_THROWS_WITH_AS(fit_preprocess(c, o), "at least two genes need at least 100000 counts (--min-gene-counts); found 0",
                         std::invalid_argument);
}

TEST_CASE("end to end: only the selected genes are imputed, the model keeps them, apply uses them") {
    SimulateOptions so;
    so.genes = 80;
    so.cells = 70;
    so.seed = 9;
    Simulation sim = simulate(so);
    sim.observed.has_row_names = true;  // a gene column, so genes are matched (and listed) by name
    sim.observed.corner = "gene";
    const std::string text = write_counts(sim.observed, sim.observed.counts);
    Settings set;
    set.train.epochs = 2;
    set.train.threads = 1;
    set.preprocess.top_genes = 25;
    ReadOptions r;
    r.source = "d.csv";
    Session s(set);
    const CountMatrix& d = s.load_data(text, r);
    REQUIRE(d.genes_named());
    s.start_training().run();
    s.impute();
    const std::vector<Eigen::Index> kept = s.imputed_genes();
    REQUIRE(kept.size() == 25);
    std::vector<Eigen::Index> with_counts;
    for (Eigen::Index g = 0; g < d.n_genes(); ++g)
        if (d.counts.row(g).sum() > 0) with_counts.push_back(g);
    std::vector<Eigen::Index> cells;
    for (Eigen::Index j = 0; j < d.n_cells(); ++j)
        if (d.counts.col(j).sum() > 0) cells.push_back(j);
    CHECK(kept == top_variable_genes(d.counts, with_counts, cells, 25));
    const std::set<Eigen::Index> chosen(kept.begin(), kept.end());
    for (Eigen::Index g = 0; g < d.n_genes(); ++g)
        if (!chosen.count(g)) CHECK(s.imputed().row(g) == d.counts.row(g));
    CHECK(s.imputed() != d.counts);
    const std::string report = s.report_json();
    CHECK(report.find("\"genes\":80,") != std::string::npos);
    CHECK(report.find(",\"genes_imputed\":25,\"imputed_genes\":[\"" + d.genes[static_cast<std::size_t>(kept[0])] + "\",") !=
          std::string::npos);
    CHECK(s.report_json(false).find("imputed_genes") == std::string::npos);
    // The contract's lines and summary (both drivers print these).
    CHECK(training_line(s).find("genes\nzimpute: imputing the 25 most variable of 80 genes (--top-genes; 0 = all); "
                                "the others are written unchanged") != std::string::npos);
    CHECK(summary_json(s, 0).find(",\"genes\":80,\"genes_imputed\":25") != std::string::npos);
    const std::string model = s.model_bytes();
    CHECK(model.find("\noption top-genes 25\n") != std::string::npos);

    // Apply to the same genes in reverse order, under settings that would choose differently:
    // the model's genes are imputed, and only they.
    CountMatrix rev = d;
    rev.counts = d.counts.colwise().reverse();
    std::reverse(rev.genes.begin(), rev.genes.end());
    Settings other;
    other.preprocess.top_genes = 0;
    Session a(other);
    a.load_data(write_counts(rev, rev.counts), r);
    a.load_model(model, "m.zim");
    a.impute();
    const Eigen::Index last = d.n_genes() - 1;
    std::vector<Eigen::Index> mirrored;
    for (const Eigen::Index g : kept) mirrored.push_back(last - g);
    std::sort(mirrored.begin(), mirrored.end());
    CHECK(a.imputed_genes() == mirrored);
    CHECK(a.imputed().colwise().reverse().isApprox(s.imputed()));
    for (Eigen::Index g = 0; g < d.n_genes(); ++g)
        if (!chosen.count(last - g)) CHECK(a.imputed().row(g) == rev.counts.row(g));
}

TEST_CASE("the stderr line names the count filter, and is absent when no gene with counts is left out") {
    M c = counts_matrix(30, 25, 6);
    c.row(1).setZero();  // all-zero genes are left out silently, as always
    c.row(2).setZero();
    c(2, 3) = 2;  // 2 counts
    CountMatrix m;
    m.counts = c;
    for (Eigen::Index g = 0; g < 30; ++g) m.genes.push_back("G" + std::to_string(g));
    for (Eigen::Index j = 0; j < 25; ++j) m.cells.push_back("C" + std::to_string(j));
    Settings set;
    set.train.epochs = 1;
    set.train.threads = 1;
    Session s(set);
    s.set_data(m);
    s.start_training();
    CHECK(training_line(s).find('\n') == std::string::npos);
    const Eigen::ArrayXf totals = c.rowwise().sum().array();
    const auto low = ((totals > 0) && (totals < 3)).count();
    REQUIRE(low >= 1);
    s.settings().preprocess.min_gene_counts = 3;
    s.start_training();
    CHECK(training_line(s).find("\nzimpute: imputing " + std::to_string((totals >= 3).count()) + " of 30 genes, leaving out " +
                                std::to_string(low) + " with fewer than 3 counts (--min-gene-counts); the others are written unchanged") !=
          std::string::npos);
}
