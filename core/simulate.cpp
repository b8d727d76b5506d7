#include "simulate.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rng.hpp"

namespace zimpute {
namespace {

double lognormal(Rng& r, double loc, double scale) { return std::exp(loc + scale * r.normal()); }

double logistic(double x, double shape, double midpoint) { return 1.0 / (1.0 + std::exp(-shape * (x - midpoint))); }

CountMatrix course_layout(Eigen::MatrixXf counts) {
    CountMatrix m;
    m.counts = std::move(counts);
    for (Eigen::Index i = 0; i < m.counts.rows(); ++i) m.genes.push_back("Gene" + std::to_string(i + 1));
    for (Eigen::Index j = 0; j < m.counts.cols(); ++j) m.cells.push_back("Cell" + std::to_string(j + 1));
    return m;
}

}  // namespace

Simulation simulate(const SimulateOptions& o) {
    if (o.genes < 2 || o.cells < 2 || o.groups < 1) throw std::invalid_argument("simulate needs >= 2 genes, >= 2 cells, >= 1 group");
    if (o.zero_fraction >= 1) throw std::invalid_argument("zero fraction must be below 1");
    Rng rng(o.seed);
    const int G = o.genes, C = o.cells;

    // Gene means, with outliers scaled from the median mean.
    std::vector<double> base(static_cast<std::size_t>(G));
    for (auto& m : base) m = rng.gamma(o.mean_shape, o.mean_rate);
    std::vector<double> sorted = base;
    std::nth_element(sorted.begin(), sorted.begin() + G / 2, sorted.end());
    const double median = sorted[static_cast<std::size_t>(G / 2)];
    for (auto& m : base)
        if (rng.uniform() < o.outlier_prob) m = median * lognormal(rng, o.outlier_loc, o.outlier_scale);

    // Groups and their differential-expression factors (half of DE genes go down).
    Simulation s;
    s.group.resize(static_cast<std::size_t>(C));
    for (auto& g : s.group) g = static_cast<int>(rng.below(static_cast<std::uint64_t>(o.groups)));
    Eigen::MatrixXd de = Eigen::MatrixXd::Ones(G, o.groups);
    for (int k = 0; k < o.groups; ++k)
        for (int i = 0; i < G; ++i)
            if (rng.uniform() < o.de_prob) {
                const double f = lognormal(rng, o.de_loc, o.de_scale);
                de(i, k) = rng.uniform() < o.de_down_prob ? 1.0 / f : f;
            }

    // Cell means: group-scaled gene means as proportions of each cell's library size.
    Eigen::MatrixXd mean(G, C);
    for (int j = 0; j < C; ++j) {
        const int k = s.group[static_cast<std::size_t>(j)];
        double total = 0;
        for (int i = 0; i < G; ++i) total += mean(i, j) = base[static_cast<std::size_t>(i)] * de(i, k);
        mean.col(j) *= lognormal(rng, o.lib_loc, o.lib_scale) / total;
    }

    // BCV: bcv = (common + 1/sqrt(mean)) * sqrt(df / chi2_df), one chi-square draw per gene;
    // true means ~ Gamma(1/bcv^2, scale mean bcv^2), true counts ~ Poisson.
    Eigen::MatrixXf truth(G, C);
    Eigen::MatrixXd true_mean(G, C);
    std::vector<double> chi(static_cast<std::size_t>(G));
    for (auto& c : chi) c = std::sqrt(o.bcv_df / rng.gamma(o.bcv_df / 2, 0.5));
    if (o.keep_parameters) {
        s.base_mean.resize(G, C);
        s.bcv_shape.resize(G, C);
    }
    for (int j = 0; j < C; ++j)
        for (int i = 0; i < G; ++i) {
            const double m = mean(i, j), bcv = (o.bcv_common + 1.0 / std::sqrt(m)) * chi[static_cast<std::size_t>(i)];
            const double shape = 1.0 / (bcv * bcv);
            if (o.keep_parameters) {
                s.base_mean(i, j) = static_cast<float>(m);
                s.bcv_shape(i, j) = static_cast<float>(shape);
            }
            true_mean(i, j) = rng.gamma(shape, shape / m);
            truth(i, j) = static_cast<float>(rng.poisson(true_mean(i, j)));
        }

    // Dropout probability logistic in log(true mean); the midpoint is found by bisection so the
    // expected share of observed zeros matches the target.
    Eigen::MatrixXd logm = true_mean.array().max(1e-300).log();
    double mid = o.dropout_midpoint;
    if (o.zero_fraction >= 0) {
        // The expected zero share is a mean over the true non-zeros; an evenly strided sample of
        // at most 100k of them estimates it to ~1e-3, which keeps 2000 x 1000 fast.
        std::vector<double> nz;
        for (Eigen::Index k = 0; k < truth.size(); ++k)
            if (truth.data()[k] > 0) nz.push_back(logm.data()[k]);
        const std::size_t stride = std::max<std::size_t>(1, nz.size() / 100000);
        const double n = static_cast<double>(truth.size());
        const double true_zeros = n - static_cast<double>(nz.size());
        const double weight = static_cast<double>(nz.size()) / static_cast<double>((nz.size() + stride - 1) / stride);
        double lo = -50, hi = 50;
        for (int it = 0; it < 40; ++it) {
            mid = 0.5 * (lo + hi);
            double dropped = 0;
            for (std::size_t k = 0; k < nz.size(); k += stride) dropped += logistic(nz[k], o.dropout_shape, mid);
            // With a negative shape, a larger midpoint drops more.
            if (((true_zeros + weight * dropped) / n < o.zero_fraction) == (o.dropout_shape < 0)) lo = mid;
            else hi = mid;
        }
    }
    s.midpoint = mid;
    Eigen::MatrixXf observed = truth;
    if (o.keep_parameters) {
        s.mean = true_mean.cast<float>();
        s.dropout.resize(G, C);
    }
    for (Eigen::Index k = 0; k < truth.size(); ++k) {
        const double p = logistic(logm.data()[k], o.dropout_shape, mid);
        if (o.keep_parameters) s.dropout.data()[k] = static_cast<float>(p);
        if (rng.uniform() < p) observed.data()[k] = 0;
    }
    s.truth = course_layout(std::move(truth));
    s.observed = course_layout(std::move(observed));
    return s;
}

}  // namespace zimpute
