#include "preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace zimpute {
namespace {

float median_of(std::vector<float> v) {
    if (v.empty()) return 0.0f;
    const std::size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    if (v.size() % 2) return v[mid];
    const float upper = v[mid];
    const float lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
    return 0.5f * (lower + upper);
}

Eigen::MatrixXf select_genes(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& genes,
                             const std::vector<Eigen::Index>& cells) {
    Eigen::MatrixXf out(static_cast<Eigen::Index>(genes.size()), static_cast<Eigen::Index>(cells.size()));
    for (std::size_t j = 0; j < cells.size(); ++j)
        for (std::size_t i = 0; i < genes.size(); ++i)
            out(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = counts(genes[i], cells[j]);
    return out;
}

// Size-factor normalization and log1p, before scaling.
Eigen::MatrixXf normalize(const Eigen::MatrixXf& counts, const Eigen::VectorXf& sf, bool log1p) {
    Eigen::MatrixXf x = counts * sf.cwiseInverse().asDiagonal();
    if (log1p) x = x.array().log1p().matrix();
    return x;
}

}  // namespace

Eigen::VectorXf raw_size_factors(const Eigen::MatrixXf& counts, SizeFactorMethod method) {
    const Eigen::Index n = counts.cols();
    Eigen::VectorXf f = Eigen::VectorXf::Ones(n);
    if (method == SizeFactorMethod::libsize) {
        f = counts.colwise().sum().transpose();
    } else if (method == SizeFactorMethod::median) {
        // The seed takes the (G/2)-th smallest count. With more than half zeros (typical
        // scRNA-seq) that is 0 for every cell, so a zero median falls back to the median of the
        // cell's non-zero counts.
        std::vector<float> col(static_cast<std::size_t>(counts.rows()));
        for (Eigen::Index j = 0; j < n; ++j) {
            Eigen::Map<Eigen::VectorXf>(col.data(), counts.rows()) = counts.col(j);
            const std::size_t mid = col.size() / 2;
            std::nth_element(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(mid), col.end());
            float m = col[mid];
            if (m <= 0.0f) {
                std::vector<float> nz;
                for (Eigen::Index i = 0; i < counts.rows(); ++i)
                    if (counts(i, j) > 0) nz.push_back(counts(i, j));
                m = median_of(std::move(nz));
            }
            f(j) = m;
        }
    }
    return f;
}

PreprocessParams fit_preprocess(const Eigen::MatrixXf& counts, const PreprocessOptions& options) {
    PreprocessParams p;
    p.options = options;
    p.n_genes_total = counts.rows();
    const Eigen::VectorXf gene_totals = counts.rowwise().sum();
    for (Eigen::Index i = 0; i < counts.rows(); ++i)
        if (gene_totals(i) > 0) p.kept_genes.push_back(i);
    if (p.kept_genes.size() < 2)
        throw std::invalid_argument("at least two genes need non-zero counts; found " +
                                    std::to_string(p.kept_genes.size()));
    std::vector<Eigen::Index> cells;
    for (Eigen::Index j = 0; j < counts.cols(); ++j) cells.push_back(j);
    Eigen::MatrixXf kept = select_genes(counts, p.kept_genes, cells);
    std::vector<Eigen::Index> nonempty;
    for (Eigen::Index j = 0; j < kept.cols(); ++j)
        if (kept.col(j).sum() > 0) nonempty.push_back(j);
    if (nonempty.size() < 2)
        throw std::invalid_argument("at least two cells need non-zero counts; found " + std::to_string(nonempty.size()));
    kept = select_genes(counts, p.kept_genes, nonempty);

    const Eigen::VectorXf raw = raw_size_factors(kept, options.size_factors);
    std::vector<float> rv(raw.data(), raw.data() + raw.size());
    p.size_factor_reference = options.size_factors == SizeFactorMethod::none ? 1.0f : median_of(rv);
    if (!(p.size_factor_reference > 0)) p.size_factor_reference = 1.0f;

    const Eigen::MatrixXf x = normalize(kept, raw / p.size_factor_reference, options.log1p);
    if (options.scale == ScaleMethod::per_gene) {
        p.center = x.rowwise().mean();
        const Eigen::MatrixXf d = x.colwise() - p.center;
        p.scale = (d.array().square().rowwise().sum() / static_cast<float>(x.cols())).sqrt().matrix();
    } else if (options.scale == ScaleMethod::global) {
        const float mean = x.mean();
        const float var = (x.array() - mean).square().mean();
        p.center = Eigen::VectorXf::Constant(1, mean);
        p.scale = Eigen::VectorXf::Constant(1, std::sqrt(var));
    } else {
        p.center = Eigen::VectorXf::Zero(1);
        p.scale = Eigen::VectorXf::Ones(1);
    }
    // A constant gene (or matrix) has sd 0: leave it centered rather than dividing by zero.
    for (Eigen::Index i = 0; i < p.scale.size(); ++i)
        if (!(p.scale(i) > 1e-8f)) p.scale(i) = 1.0f;
    return p;
}

Preprocessed apply_preprocess(const PreprocessParams& p, const Eigen::MatrixXf& counts) {
    if (counts.rows() != p.n_genes_total)
        throw std::invalid_argument("the matrix has " + std::to_string(counts.rows()) + " genes, the model expects " +
                                    std::to_string(p.n_genes_total));
    Preprocessed out;
    for (Eigen::Index j = 0; j < counts.cols(); ++j) {
        float total = 0;
        for (Eigen::Index g : p.kept_genes) total += counts(g, j);
        if (total > 0) out.kept_cells.push_back(j);
    }
    if (out.kept_cells.empty()) throw std::invalid_argument("every cell is all zero in the model's genes");
    out.counts = select_genes(counts, p.kept_genes, out.kept_cells);
    const Eigen::VectorXf raw = raw_size_factors(out.counts, p.options.size_factors);
    out.size_factors = raw / p.size_factor_reference;
    for (Eigen::Index j = 0; j < out.size_factors.size(); ++j)
        if (!(out.size_factors(j) > 0)) out.size_factors(j) = 1.0f;  // median rule on a near-empty cell
    out.input = normalize(out.counts, out.size_factors, p.options.log1p);
    if (p.center.size() == 1) {
        out.input.array() = (out.input.array() - p.center(0)) / p.scale(0);
    } else {
        out.input = (out.input.colwise() - p.center);
        out.input = p.scale.cwiseInverse().asDiagonal() * out.input;
    }
    return out;
}

SizeFactorMethod parse_size_factor_method(const std::string& s) {
    if (s == "libsize") return SizeFactorMethod::libsize;
    if (s == "median") return SizeFactorMethod::median;
    if (s == "none") return SizeFactorMethod::none;
    throw std::invalid_argument("size factors must be libsize, median or none, not '" + s + "'");
}
ScaleMethod parse_scale_method(const std::string& s) {
    if (s == "per-gene") return ScaleMethod::per_gene;
    if (s == "global") return ScaleMethod::global;
    if (s == "none") return ScaleMethod::none;
    throw std::invalid_argument("scale must be per-gene, global or none, not '" + s + "'");
}
std::string to_string(SizeFactorMethod m) {
    return m == SizeFactorMethod::libsize ? "libsize" : m == SizeFactorMethod::median ? "median" : "none";
}
std::string to_string(ScaleMethod m) {
    return m == ScaleMethod::per_gene ? "per-gene" : m == ScaleMethod::global ? "global" : "none";
}

}  // namespace zimpute
