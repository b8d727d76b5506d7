#include "pictures.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "rng.hpp"

namespace zimpute {

namespace {

// Every step-th of 0..n-1 so that at most `cap` are taken (all when n <= cap).
std::vector<Eigen::Index> strided(Eigen::Index n, Eigen::Index cap) {
    std::vector<Eigen::Index> out;
    if (n <= 0 || cap <= 0) return out;
    const Eigen::Index step = (n + cap - 1) / cap;
    for (Eigen::Index i = 0; i < n; i += step) out.push_back(i);
    return out;
}

// Orthonormal columns (thin Q of a QR), so the subspace iteration does not collapse onto PC1.
Eigen::MatrixXd orthonormal(const Eigen::MatrixXd& v) {
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(v);
    return qr.householderQ() * Eigen::MatrixXd::Identity(v.rows(), v.cols());
}

// The map's groups: the file's labels when they look like groups (2..max_groups distinct values,
// named in order of first appearance), else clusters of the imputed cells' principal component
// scores (one column per map cell). Not clusters of the latent: on simulated data with known
// groups (1000 genes x 400 cells, 3 groups, 40 epochs, seeds 1-3), k-means on the latent matched
// them no better than chance (adjusted Rand index 0.01-0.05), these clusters at 0.82-0.98.
void assign_groups(Pictures& p, const Eigen::MatrixXf& scores, const std::vector<std::string>& labels,
                   const PictureOptions& o) {
    if (!labels.empty()) {
        std::map<std::string, int> index;
        std::vector<int> group;
        for (Eigen::Index c : p.map_cells) {
            const std::string& l = labels[static_cast<std::size_t>(c)];
            auto it = index.find(l);
            if (it == index.end()) {
                it = index.emplace(l, static_cast<int>(p.group_names.size())).first;
                p.group_names.push_back(l);
            }
            group.push_back(it->second);
        }
        if (p.group_names.size() >= 2 && p.group_names.size() <= static_cast<std::size_t>(o.max_groups)) {
            p.group = std::move(group);
            p.groups_from_labels = true;
            return;
        }
        p.group_names.clear();
    }
    p.group = clusters(scores, o.max_clusters, o.seed);
    const int k = p.group.empty() ? 0 : *std::max_element(p.group.begin(), p.group.end()) + 1;
    for (int g = 0; g < k; ++g) p.group_names.push_back("cluster " + std::to_string(g + 1));
}

void count_entries(Pictures& p, const Eigen::MatrixXf& obs, const Eigen::MatrixXf& imp, const Eigen::MatrixXf& pi,
                   const Eigen::MatrixXf* truth) {
    p.entries = static_cast<double>(obs.size());
    for (Eigen::Index k = 0; k < obs.size(); ++k) {
        if (obs.data()[k] != 0) continue;
        ++p.zeros;
        const float y = imp.data()[k], q = pi.data()[k];
        if (y != 0) ++p.filled;
        if (y >= 0.5f) ++p.filled_one;
        if (q >= 0.4f && q <= 0.6f) ++p.unsure;
        if (truth && truth->data()[k] != 0) ++p.true_dropouts;
    }
}

void sample_truth(Pictures& p, const Eigen::MatrixXf& obs, const Eigen::MatrixXf& imp, const Eigen::MatrixXf& truth,
                  int cap) {
    const auto step = static_cast<long long>((p.true_dropouts + cap - 1) / std::max(cap, 1));
    long long seen = 0;
    for (Eigen::Index k = 0; k < obs.size(); ++k) {
        if (obs.data()[k] != 0 || truth.data()[k] == 0) continue;
        if (seen++ % std::max(step, 1LL)) continue;
        p.truth_true.push_back(std::log1p(truth.data()[k]));
        p.truth_imputed.push_back(std::log1p(std::max(0.0f, imp.data()[k])));
    }
}

// Each column's scale: its total over the median total of the columns with counts (1 for a column
// without counts).
std::vector<float> cell_scales(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& cols) {
    std::vector<double> totals, positive;
    for (Eigen::Index c : cols) {
        totals.push_back(counts.col(c).cast<double>().sum());
        if (totals.back() > 0) positive.push_back(totals.back());
    }
    double median = 1;
    if (!positive.empty()) {
        std::nth_element(positive.begin(), positive.begin() + static_cast<long>(positive.size() / 2), positive.end());
        median = positive[positive.size() / 2];
    }
    std::vector<float> s;
    for (double t : totals) s.push_back(t > 0 ? static_cast<float>(t / median) : 1.0f);
    return s;
}

// The n largest scores' indices (ties: the lower index first).
std::vector<Eigen::Index> top_by(const Eigen::VectorXd& score, int n) {
    std::vector<Eigen::Index> order(static_cast<std::size_t>(score.size()));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    const auto k = std::min<std::size_t>(order.size(), static_cast<std::size_t>(std::max(n, 0)));
    std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(), [&](Eigen::Index a, Eigen::Index b) {
        return score(a) > score(b) || (score(a) == score(b) && a < b);
    });
    order.resize(k);
    return order;
}

// The variance of every row of log_normalized(counts, cols), one column at a time: the whole
// normalized matrix (genes x up to 5000 cells) would not fit the browser's memory for large data.
Eigen::VectorXd normalized_variances(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& cols) {
    const std::vector<float> s = cell_scales(counts, cols);
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(counts.rows()), sq = Eigen::VectorXd::Zero(counts.rows());
    for (std::size_t j = 0; j < cols.size(); ++j)
        for (Eigen::Index i = 0; i < counts.rows(); ++i) {
            const double v = std::log1p(std::max(0.0f, counts(i, cols[j])) / s[j]);
            sum(i) += v;
            sq(i) += v * v;
        }
    const double n = std::max<double>(1, static_cast<double>(cols.size()));
    return (sq - sum.cwiseProduct(sum) / n) / n;
}

}  // namespace

Eigen::MatrixXf log_normalized(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& cols,
                               const std::vector<Eigen::Index>& rows) {
    const std::vector<float> s = cell_scales(counts, cols);
    const Eigen::Index n_rows = rows.empty() ? counts.rows() : static_cast<Eigen::Index>(rows.size());
    Eigen::MatrixXf out(n_rows, static_cast<Eigen::Index>(cols.size()));
    for (std::size_t j = 0; j < cols.size(); ++j)
        for (Eigen::Index i = 0; i < n_rows; ++i) {
            const Eigen::Index r = rows.empty() ? i : rows[static_cast<std::size_t>(i)];
            out(i, static_cast<Eigen::Index>(j)) = std::log1p(std::max(0.0f, counts(r, cols[j])) / s[j]);
        }
    return out;
}

std::vector<Eigen::Index> most_variable_rows(const Eigen::MatrixXf& x, int n) {
    const Eigen::VectorXd mean = x.cast<double>().rowwise().mean();
    return top_by((x.cast<double>().colwise() - mean).rowwise().squaredNorm(), n);
}

Eigen::MatrixXf pca(const Eigen::MatrixXf& x, int components, int max_iterations) {
    const Eigen::MatrixXd c = x.cast<double>().colwise() - x.cast<double>().rowwise().mean();
    const Eigen::Index d = std::min<Eigen::Index>({components, c.rows(), c.cols()});
    Eigen::MatrixXf scores = Eigen::MatrixXf::Zero(components, x.cols());
    if (d <= 0) return scores;
    // A few directions more than asked for (Halko et al.'s oversampling): the top d then converge
    // at the rate of the (d+8)-th eigenvalue over the d-th, not the (d+1)-th over the d-th.
    const Eigen::Index m = std::min<Eigen::Index>({d + 8, c.rows(), c.cols()});
    // A fixed start with no special direction (not all ones: that is often orthogonal to a PC).
    Eigen::MatrixXd v(c.rows(), m);
    for (Eigen::Index i = 0; i < v.rows(); ++i)
        for (Eigen::Index k = 0; k < m; ++k) v(i, k) = std::sin(1.0 + 1.7 * static_cast<double>(i) + 2.9 * static_cast<double>(k));
    v = orthonormal(v);
    Eigen::MatrixXd u, previous;
    for (int it = 0; it < max_iterations; ++it) {
        v = orthonormal(c * (c.transpose() * v));
        // The Ritz vectors: the eigenvectors of c c^T within the subspace, largest first.
        const Eigen::MatrixXd proj = v.transpose() * c;
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> small(proj * proj.transpose());
        u = v * small.eigenvectors().rowwise().reverse().leftCols(d);
        // Converged when the top-d subspace stops turning (its vectors may flip sign or rotate
        // among equal eigenvalues, which changes no score's spread).
        if (it > 0) {
            Eigen::JacobiSVD<Eigen::MatrixXd> angles(u.transpose() * previous);
            if (angles.singularValues().minCoeff() > 1 - 1e-9) break;
        }
        previous = u;
    }
    for (Eigen::Index k = 0; k < d; ++k) {
        Eigen::Index at = 0;
        u.col(k).cwiseAbs().maxCoeff(&at);
        if (u(at, k) < 0) u.col(k) = -u.col(k);
    }
    scores.topRows(d) = (u.transpose() * c).cast<float>();
    return scores;
}

namespace {

// One k-means (Lloyd's iterations from a k-means++ start) of the columns of points; returns the
// within-cluster sum of squares.
double lloyd(const Eigen::MatrixXf& points, int k, Rng& rng, std::vector<int>& assign) {
    const Eigen::Index n = points.cols();
    Eigen::MatrixXf centres(points.rows(), k);
    centres.col(0) = points.col(static_cast<Eigen::Index>(rng.uniform() * static_cast<double>(n)));
    Eigen::VectorXd dist = (points.colwise() - centres.col(0)).colwise().squaredNorm().cast<double>().transpose();
    for (int c = 1; c < k; ++c) {  // k-means++: the next centre with probability ~ squared distance
        double r = rng.uniform() * dist.sum();
        Eigen::Index pick = n - 1;
        for (Eigen::Index j = 0; j < n; ++j)
            if ((r -= dist(j)) < 0) {
                pick = j;
                break;
            }
        centres.col(c) = points.col(pick);
        dist = dist.cwiseMin((points.colwise() - centres.col(c)).colwise().squaredNorm().cast<double>().transpose());
    }
    assign.assign(static_cast<std::size_t>(n), -1);
    double inertia = 0;
    for (int it = 0; it < 100; ++it) {
        bool changed = false;
        inertia = 0;
        for (Eigen::Index j = 0; j < n; ++j) {
            Eigen::Index best = 0;
            inertia += (centres.colwise() - points.col(j)).colwise().squaredNorm().minCoeff(&best);
            if (assign[static_cast<std::size_t>(j)] != best) changed = true;
            assign[static_cast<std::size_t>(j)] = static_cast<int>(best);
        }
        if (!changed) break;
        Eigen::MatrixXf sum = Eigen::MatrixXf::Zero(points.rows(), k);
        std::vector<int> size(static_cast<std::size_t>(k), 0);
        for (Eigen::Index j = 0; j < n; ++j) {
            sum.col(assign[static_cast<std::size_t>(j)]) += points.col(j);
            ++size[static_cast<std::size_t>(assign[static_cast<std::size_t>(j)])];
        }
        for (int c = 0; c < k; ++c)
            if (size[static_cast<std::size_t>(c)]) centres.col(c) = sum.col(c) / static_cast<float>(size[static_cast<std::size_t>(c)]);
    }
    return inertia;
}

}  // namespace

std::vector<int> kmeans(const Eigen::MatrixXf& points, int k, std::uint64_t seed, int restarts) {
    const Eigen::Index n = points.cols();
    k = static_cast<int>(std::min<Eigen::Index>(k, n));
    std::vector<int> assign(static_cast<std::size_t>(n), 0);
    if (k <= 1) return assign;
    // The best of several starts: one k-means++ start can end in a poor local optimum.
    Rng rng(seed);
    double best = std::numeric_limits<double>::infinity();
    std::vector<int> trial;
    for (int r = 0; r < std::max(restarts, 1); ++r) {
        const double inertia = lloyd(points, k, rng, trial);
        if (inertia < best) {
            best = inertia;
            assign = trial;
        }
    }
    // Renumber by size (largest first, ties by first appearance), dropping empty clusters.
    std::vector<int> size(static_cast<std::size_t>(k), 0), order(static_cast<std::size_t>(k));
    for (int a : assign) ++size[static_cast<std::size_t>(a)];
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return size[static_cast<std::size_t>(a)] > size[static_cast<std::size_t>(b)]; });
    std::vector<int> rank(static_cast<std::size_t>(k));
    for (int r = 0; r < k; ++r) rank[static_cast<std::size_t>(order[static_cast<std::size_t>(r)])] = r;
    for (int& a : assign) a = rank[static_cast<std::size_t>(a)];
    return assign;
}

double silhouette(const Eigen::MatrixXf& points, const std::vector<int>& assign) {
    const Eigen::Index n = points.cols();
    const int k = assign.empty() ? 0 : *std::max_element(assign.begin(), assign.end()) + 1;
    if (k < 2) return 0;
    double total = 0;
    std::vector<double> sum(static_cast<std::size_t>(k));
    std::vector<int> size(static_cast<std::size_t>(k), 0);
    for (int a : assign) ++size[static_cast<std::size_t>(a)];
    for (Eigen::Index i = 0; i < n; ++i) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (Eigen::Index j = 0; j < n; ++j)
            if (j != i) sum[static_cast<std::size_t>(assign[static_cast<std::size_t>(j)])] += (points.col(i) - points.col(j)).norm();
        const auto own = static_cast<std::size_t>(assign[static_cast<std::size_t>(i)]);
        if (size[own] < 2) continue;  // a cell alone in its cluster scores 0
        const double a = sum[own] / (size[own] - 1);
        double b = std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < sum.size(); ++c)
            if (c != own && size[c] > 0) b = std::min(b, sum[c] / size[c]);
        if (std::max(a, b) > 0 && std::isfinite(b)) total += (b - a) / std::max(a, b);
    }
    return total / static_cast<double>(n);
}

std::vector<Eigen::Index> rows_telling_groups_apart(const Eigen::MatrixXf& x, const std::vector<int>& group, int n) {
    const int k = group.empty() ? 0 : *std::max_element(group.begin(), group.end()) + 1;
    std::vector<double> share(static_cast<std::size_t>(x.rows()), 0.0);
    if (k >= 2) {
        std::vector<double> sum(static_cast<std::size_t>(k));
        std::vector<int> size(static_cast<std::size_t>(k), 0);
        for (int g : group) ++size[static_cast<std::size_t>(g)];
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
            std::fill(sum.begin(), sum.end(), 0.0);
            double total = 0, squares = 0;
            for (Eigen::Index j = 0; j < x.cols(); ++j) {
                const double v = x(r, j);
                sum[static_cast<std::size_t>(group[static_cast<std::size_t>(j)])] += v;
                total += v;
                squares += v * v;
            }
            const double mean = total / static_cast<double>(x.cols());
            const double ss_total = squares - total * mean;
            double ss_between = 0;
            for (std::size_t g = 0; g < sum.size(); ++g)
                if (size[g] > 0) ss_between += size[g] * std::pow(sum[g] / size[g] - mean, 2);
            share[static_cast<std::size_t>(r)] = ss_total > 1e-12 * std::max(1.0, squares) ? ss_between / ss_total : 0.0;
        }
    }
    std::vector<Eigen::Index> rows(static_cast<std::size_t>(x.rows()));
    std::iota(rows.begin(), rows.end(), Eigen::Index(0));
    std::stable_sort(rows.begin(), rows.end(), [&](Eigen::Index a, Eigen::Index b) {
        return share[static_cast<std::size_t>(a)] > share[static_cast<std::size_t>(b)];
    });
    rows.resize(std::min<std::size_t>(rows.size(), static_cast<std::size_t>(std::max(0, n))));
    return rows;
}

std::vector<int> clusters(const Eigen::MatrixXf& points, int k_max, std::uint64_t seed) {
    // The silhouette costs n^2 distances: scored on at most 1000 evenly strided cells.
    std::vector<Eigen::Index> sample = strided(points.cols(), 1000);
    const Eigen::MatrixXf scored = points(Eigen::all, sample);
    std::vector<int> best(static_cast<std::size_t>(points.cols()), 0);
    double best_score = -2;
    for (int k = 2; k <= k_max && k <= points.cols(); ++k) {
        std::vector<int> a = kmeans(points, k, seed);
        std::vector<int> sub;
        for (Eigen::Index j : sample) sub.push_back(a[static_cast<std::size_t>(j)]);
        const double score = silhouette(scored, sub);
        if (score > best_score + 1e-12) {
            best_score = score;
            best = std::move(a);
        }
    }
    return best;
}

Pictures make_pictures(const Eigen::MatrixXf& observed, const Eigen::MatrixXf& imputed, const Eigen::MatrixXf& pi,
                       const Eigen::MatrixXf* truth, const std::vector<std::string>& labels, const PictureOptions& o) {
    Pictures p;
    p.map_cells = strided(observed.cols(), o.map_cells);
    // Genes chosen on the observed counts and used for both maps, so the two differ only by imputation.
    const std::vector<Eigen::Index> genes = top_by(normalized_variances(observed, p.map_cells), o.map_genes);
    p.map_observed = pca(log_normalized(observed, p.map_cells, genes), 2, o.pca_iterations);
    const Eigen::MatrixXf imputed_log = log_normalized(imputed, p.map_cells, genes);
    const Eigen::MatrixXf scores = pca(imputed_log, std::max(2, o.cluster_components), o.pca_iterations);
    p.map_imputed = scores.topRows(2);
    assign_groups(p, scores, labels, o);

    // The heatmap shows the genes that tell the map's groups apart, not merely the most variable:
    // on sparse data those are mostly dropout noise and show no groups at all.
    for (Eigen::Index r : rows_telling_groups_apart(imputed_log, p.group, o.heat_genes))
        p.heat_genes.push_back(genes[static_cast<std::size_t>(r)]);
    std::vector<std::size_t> picks;  // positions in map_cells, grouped (stable within a group)
    for (Eigen::Index j : strided(static_cast<Eigen::Index>(p.map_cells.size()), o.heat_cells)) picks.push_back(static_cast<std::size_t>(j));
    std::stable_sort(picks.begin(), picks.end(), [&](std::size_t a, std::size_t b) { return p.group[a] < p.group[b]; });
    for (std::size_t j : picks) p.heat_cells.push_back(p.map_cells[j]);
    const auto hg = static_cast<Eigen::Index>(p.heat_genes.size()), hc = static_cast<Eigen::Index>(p.heat_cells.size());
    p.heat_observed.resize(hg, hc);
    p.heat_imputed.resize(hg, hc);
    for (Eigen::Index j = 0; j < hc; ++j)
        for (Eigen::Index i = 0; i < hg; ++i) {
            const Eigen::Index r = p.heat_genes[static_cast<std::size_t>(i)], c = p.heat_cells[static_cast<std::size_t>(j)];
            p.heat_observed(i, j) = std::log1p(observed(r, c));
            p.heat_imputed(i, j) = std::log1p(std::max(0.0f, imputed(r, c)));
        }

    count_entries(p, observed, imputed, pi, truth);
    if (truth) sample_truth(p, observed, imputed, *truth, o.truth_points);
    return p;
}

}  // namespace zimpute
