#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>

namespace zimpute {
namespace {

// Pearson correlation accumulated in double; NaN when either side is constant.
struct Pearson {
    double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    void add(double x, double y) {
        n += 1;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    double r() const {
        const double vx = n * sxx - sx * sx, vy = n * syy - sy * sy;
        if (n < 2 || vx <= 0 || vy <= 0) return std::nan("");
        return (n * sxy - sx * sy) / std::sqrt(vx * vy);
    }
};

double mean_finite(const std::vector<double>& v) {
    double s = 0;
    long n = 0;
    for (double x : v)
        if (std::isfinite(x)) {
            s += x;
            ++n;
        }
    return n ? s / static_cast<double>(n) : std::nan("");
}


// Index in `truth_names` of each of `names`, matched by name when both are named, else by position.
std::vector<Eigen::Index> match(const std::vector<std::string>& names, bool named, const std::vector<std::string>& truth_names,
                                bool truth_named, const char* what) {
    std::vector<Eigen::Index> idx(names.size());
    if (!(named && truth_named) || names == truth_names) {
        if (names.size() != truth_names.size())
            throw InputError(std::string("the truth file has ") + std::to_string(truth_names.size()) + " " + what +
                             "s, the data has " + std::to_string(names.size()));
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<Eigen::Index>(i);
        return idx;
    }
    idx = match_by_name(names, truth_names);
    for (std::size_t i = 0; i < names.size(); ++i)
        if (idx[i] < 0) {
            const bool repeated = std::count(names.begin(), names.end(), names[i]) > 1;
            throw InputError(std::string("the truth file has no ") + what + " named '" + names[i] + "'" +
                             (repeated ? " as many times as the data" : "") + " (" + what + " " + std::to_string(i + 1) +
                             " of the data)");
        }
    return idx;
}

}  // namespace

Eigen::MatrixXf align_truth(const CountMatrix& observed, const CountMatrix& truth) {
    std::vector<Eigen::Index> gi, ci;
    try {
        gi = match(observed.genes, observed.genes_named(), truth.genes, truth.genes_named(), "gene");
        ci = match(observed.cells, observed.cells_named(), truth.cells, truth.cells_named(), "cell");
    } catch (const InputError& e) {
        // How the truth was read (its header, its name column) is often why it does not match.
        std::string why = e.what();
        for (const auto& w : truth.warnings) why += "; reading the truth file: " + w;
        throw InputError(why);
    }
    Eigen::MatrixXf out(observed.n_genes(), observed.n_cells());
    for (Eigen::Index j = 0; j < out.cols(); ++j)
        for (Eigen::Index i = 0; i < out.rows(); ++i) out(i, j) = truth.counts(gi[i], ci[j]);
    return out;
}

Metrics compute_metrics(const Eigen::MatrixXf& observed, const Eigen::MatrixXf& imputed, const Eigen::MatrixXf& truth) {
    if (observed.rows() != truth.rows() || observed.cols() != truth.cols() || imputed.rows() != truth.rows() ||
        imputed.cols() != truth.cols())
        throw InputError("metrics need matrices of one shape: observed " + std::to_string(observed.rows()) + "x" +
                         std::to_string(observed.cols()) + ", imputed " + std::to_string(imputed.rows()) + "x" +
                         std::to_string(imputed.cols()) + ", truth " + std::to_string(truth.rows()) + "x" +
                         std::to_string(truth.cols()));
    Metrics m;
    double pred2 = 0, orig2 = 0, zpred2 = 0, zorig2 = 0;
    Pearson dropout;
    std::vector<Pearson> genes(static_cast<std::size_t>(truth.rows()));
    std::vector<double> cell_r;
    for (Eigen::Index j = 0; j < truth.cols(); ++j) {
        Pearson cell;
        for (Eigen::Index i = 0; i < truth.rows(); ++i) {
            const double x = observed(i, j), y = imputed(i, j), t = truth(i, j);
            const double dp = t - y, d0 = t - x;
            pred2 += dp * dp;
            orig2 += d0 * d0;
            if (x == 0) {
                ++m.zero_num;
                zpred2 += dp * dp;
                zorig2 += d0 * d0;
                const bool true_drop = t != 0, predicted = y != 0;
                m.true_dropout_num += true_drop;
                m.predict_dropout_num += predicted;
                m.correct_dropout_num += true_drop && predicted;
                if (true_drop) dropout.add(std::log1p(t), std::log1p(std::max(0.0, y)));
            }
            genes[static_cast<std::size_t>(i)].add(t, y);
            cell.add(t, y);
        }
        cell_r.push_back(cell.r());
    }
    std::vector<double> gene_r;
    for (const auto& g : genes) gene_r.push_back(g.r());
    m.recall = m.true_dropout_num ? static_cast<double>(m.correct_dropout_num) / static_cast<double>(m.true_dropout_num) : 0;
    m.precision =
        m.predict_dropout_num ? static_cast<double>(m.correct_dropout_num) / static_cast<double>(m.predict_dropout_num) : 0;
    m.predict_distance = std::sqrt(pred2);
    m.origin_distance = std::sqrt(orig2);
    m.distance_ratio = orig2 > 0 ? m.predict_distance / m.origin_distance : std::nan("");
    m.zero_distance_ratio = zorig2 > 0 ? std::sqrt(zpred2 / zorig2) : std::nan("");
    m.dropout_log_pearson = dropout.r();
    m.mean_gene_correlation = mean_finite(gene_r);
    m.mean_cell_correlation = mean_finite(cell_r);
    return m;
}

std::string metrics_json(const Metrics& m, const std::string& extra) {
    std::ostringstream os;
    os.precision(10);
    auto num = [&](const char* k, double v, bool comma = true) {
        os << '"' << k << "\":";
        if (std::isfinite(v)) os << v;
        else os << "null";
        if (comma) os << ',';
    };
    os << '{';
    os << "\"zero_num\":" << m.zero_num << ",\"true_dropout_num\":" << m.true_dropout_num
       << ",\"predict_dropout_num\":" << m.predict_dropout_num << ",\"correct_dropout_num\":" << m.correct_dropout_num
       << ',';
    num("recall", m.recall);
    num("precision", m.precision);
    num("predict_distance", m.predict_distance);
    num("origin_distance", m.origin_distance);
    num("distance_ratio", m.distance_ratio);
    num("zero_distance_ratio", m.zero_distance_ratio);
    num("dropout_log_pearson", m.dropout_log_pearson);
    num("mean_gene_correlation", m.mean_gene_correlation);
    num("mean_cell_correlation", m.mean_cell_correlation, !extra.empty());
    os << extra << '}';
    return os.str();
}

}  // namespace zimpute
