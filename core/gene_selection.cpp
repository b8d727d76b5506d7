#include "gene_selection.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <string>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace zimpute {

namespace {

using Moments = std::array<double, 2 * kMaxLoessDegree + 1>;     // sum w t^e
using YMoments = std::array<double, kMaxLoessDegree + 1>;        // sum w t^e y

// The weighted moments of points [first, last) around x0, t = (x - x0) * inv, tricube weights
// (or 1 each when `tricube` is false: all points at x0).
template <int Degree>
void accumulate(const std::vector<double>& xs, const std::vector<double>& ys, std::size_t first, std::size_t last,
                double x0, double inv, bool tricube, Moments& moment, YMoments& ymoment) {
    double mo[2 * Degree + 1] = {}, ym[Degree + 1] = {};
    for (std::size_t k = first; k < last; ++k) {
        const double t = (xs[k] - x0) * inv;
        const double u = std::fabs(t);
        if (tricube && u >= 1) continue;
        const double c = 1 - u * u * u;
        double p = tricube ? c * c * c : 1.0;  // the weight, times t^e below
        for (int e = 0; e <= 2 * Degree; ++e, p *= t) {
            mo[e] += p;
            if (e <= Degree) ym[e] += p * ys[k];
        }
    }
    for (int e = 0; e <= 2 * Degree; ++e) moment[static_cast<std::size_t>(e)] = mo[e];
    for (int e = 0; e <= Degree; ++e) ymoment[static_cast<std::size_t>(e)] = ym[e];
}

}  // namespace

Eigen::VectorXd loess_fit(const Eigen::VectorXd& x, const Eigen::VectorXd& y, double span, int degree) {
    const Eigen::Index n = x.size();
    if (y.size() != n) throw std::invalid_argument("loess: x and y differ in length");
    if (!(span > 0 && span <= 1) || degree < 0 || degree > kMaxLoessDegree)
        throw std::invalid_argument("loess: span in (0, 1], degree 0 to " + std::to_string(kMaxLoessDegree));
    Eigen::VectorXd fitted(n);
    if (n == 0) return fitted;
    // In one dimension the q nearest points of x[i] are a window of the points sorted by x; as x[i]
    // grows the window only moves right.
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return x(a) < x(b); });
    std::vector<double> xs(order.size()), ys(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) xs[k] = x(order[k]), ys[k] = y(order[k]);
    const auto q = static_cast<std::size_t>(std::clamp<Eigen::Index>(
        static_cast<Eigen::Index>(std::floor(span * static_cast<double>(n))), std::min<Eigen::Index>(n, degree + 1), n));
    const int m = degree + 1;
    Eigen::MatrixXd a(m, m);
    Eigen::VectorXd b(m);
    Moments moment{};
    YMoments ymoment{};
    std::size_t lo = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double x0 = xs[i];
        while (lo + q < xs.size() && xs[lo + q] - x0 < x0 - xs[lo]) ++lo;
        std::size_t first = lo, last = lo + q;  // [first, last)
        const double rho = std::max(x0 - xs[first], xs[last - 1] - x0);
        if (!(rho > 0)) {  // all q nearest share x0: use every point there, equally weighted
            while (first > 0 && xs[first - 1] == x0) --first;
            while (last < xs.size() && xs[last] == x0) ++last;
        }
        // Weighted least squares in t = (x - x0) / rho, so the fit at x0 is the constant term.
        const double inv = rho > 0 ? 1 / rho : 1.0;
        switch (degree) {
            case 0: accumulate<0>(xs, ys, first, last, x0, inv, rho > 0, moment, ymoment); break;
            case 1: accumulate<1>(xs, ys, first, last, x0, inv, rho > 0, moment, ymoment); break;
            case 2: accumulate<2>(xs, ys, first, last, x0, inv, rho > 0, moment, ymoment); break;
            default: accumulate<3>(xs, ys, first, last, x0, inv, rho > 0, moment, ymoment); break;
        }
        for (int r = 0; r < m; ++r) {
            b(r) = ymoment[static_cast<std::size_t>(r)];
            for (int c = 0; c < m; ++c) a(r, c) = moment[static_cast<std::size_t>(r + c)];
        }
        // The minimum-norm solution when the points do not determine the polynomial.
        fitted(order[i]) = Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd>(a).solve(b)(0);
    }
    return fitted;
}

SeuratV3 seurat_v3(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& genes,
                   const std::vector<Eigen::Index>& cells, double span) {
    const std::size_t g = genes.size();
    const auto n = static_cast<double>(cells.size());
    if (cells.size() < 2) throw std::invalid_argument("highly variable genes need at least two cells");
    std::vector<double> sum(g, 0.0), sumsq(g, 0.0);
    std::vector<float> lo(g), hi(g);
    for (std::size_t k = 0; k < g; ++k) lo[k] = hi[k] = counts(genes[k], cells[0]);
    for (const Eigen::Index j : cells) {
        const float* c = counts.data() + j * counts.rows();
        for (std::size_t k = 0; k < g; ++k) {
            const float v = c[genes[k]];
            sum[k] += v;
            sumsq[k] += static_cast<double>(v) * v;
            lo[k] = std::min(lo[k], v);
            hi[k] = std::max(hi[k], v);
        }
    }
    SeuratV3 s;
    const auto gi = static_cast<Eigen::Index>(g);
    s.mean.resize(gi);
    s.variance.resize(gi);
    s.constant.assign(g, false);
    std::vector<Eigen::Index> varying;
    for (std::size_t k = 0; k < g; ++k) {
        const auto i = static_cast<Eigen::Index>(k);
        s.mean(i) = sum[k] / n;
        s.constant[k] = !(hi[k] > lo[k]);
        s.variance(i) = s.constant[k] ? 0.0 : std::max(0.0, (sumsq[k] - sum[k] * s.mean(i)) / (n - 1));
        if (!(s.variance(i) > 0)) s.constant[k] = true;
        if (!s.constant[k]) varying.push_back(i);
    }
    Eigen::VectorXd lx(static_cast<Eigen::Index>(varying.size())), ly(lx.size());
    for (Eigen::Index k = 0; k < lx.size(); ++k) {
        lx(k) = std::log10(s.mean(varying[static_cast<std::size_t>(k)]));
        ly(k) = std::log10(s.variance(varying[static_cast<std::size_t>(k)]));
    }
    const Eigen::VectorXd fit = loess_fit(lx, ly, span, 2);
    s.fitted = Eigen::VectorXd::Zero(gi);
    for (Eigen::Index k = 0; k < lx.size(); ++k) s.fitted(varying[static_cast<std::size_t>(k)]) = fit(k);

    // Clip each gene's counts at reg_std * sqrt(N) + mean, then the normalized variance.
    Eigen::VectorXd reg_var(gi), clip(gi);
    for (Eigen::Index i = 0; i < gi; ++i) {
        reg_var(i) = std::pow(10.0, s.fitted(i));
        clip(i) = std::sqrt(reg_var(i)) * std::sqrt(n) + s.mean(i);
    }
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(sumsq.begin(), sumsq.end(), 0.0);
    for (const Eigen::Index j : cells) {
        const float* c = counts.data() + j * counts.rows();
        for (std::size_t k = 0; k < g; ++k) {
            const double v = std::min(static_cast<double>(c[genes[k]]), clip(static_cast<Eigen::Index>(k)));
            sum[k] += v;
            sumsq[k] += v * v;
        }
    }
    s.norm_variance.resize(gi);
    for (std::size_t k = 0; k < g; ++k) {
        const auto i = static_cast<Eigen::Index>(k);
        const double mu = s.mean(i);
        s.norm_variance(i) = (n * mu * mu + sumsq[k] - 2 * mu * sum[k]) / ((n - 1) * reg_var(i));
    }
    return s;
}

std::vector<std::size_t> rank_genes(const SeuratV3& s) {
    std::vector<std::size_t> order(s.constant.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (s.constant[a] != s.constant[b]) return !s.constant[a];
        return s.norm_variance(static_cast<Eigen::Index>(a)) > s.norm_variance(static_cast<Eigen::Index>(b));
    });
    return order;
}

std::vector<Eigen::Index> top_variable_genes(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& genes,
                                             const std::vector<Eigen::Index>& cells, std::size_t n) {
    if (n >= genes.size()) return genes;
    const std::vector<std::size_t> order = rank_genes(seurat_v3(counts, genes, cells));
    std::vector<Eigen::Index> top;
    top.reserve(n);
    for (std::size_t k = 0; k < n; ++k) top.push_back(genes[order[k]]);
    std::sort(top.begin(), top.end());
    return top;
}

}  // namespace zimpute
