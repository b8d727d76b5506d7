#include "preprocess.hpp"

#include "count_matrix.hpp"  // InputError
#include "fast_math.hpp"
#include "gene_selection.hpp"

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

// The raw size factor of one cell from its counts over the kept genes (`col`, reordered freely).
// A cell's size factor as the model uses it: 1 for a near-empty cell (the median rule can give
// 0), and refused when mu, bounded at 1e6 times it, could leave float range (tiny non-integer
// values make the reference tiny; finite in, finite out).
float checked_size_factor(float f, Eigen::Index cell) {
    if (!(f > 0)) return 1.0f;
    if (!(f <= 1e30f))
        throw InputError("cell " + std::to_string(cell + 1) + ": its size factor (library over the median) is more than 1e30, "
                         "beyond what zimpute can model; is this a matrix of counts?");
    return f;
}

float raw_factor(std::vector<float>& col, SizeFactorMethod method) {
    if (method == SizeFactorMethod::libsize) {
        double total = 0;
        for (float v : col) total += v;
        return static_cast<float>(total);
    }
    if (method == SizeFactorMethod::none || col.empty()) return 1.0f;
    // The course report takes the (G/2)-th smallest count. With more than half zeros (typical scRNA-seq)
    // that is 0 for every cell, so a zero median falls back to the median of the cell's non-zero
    // counts.
    const std::size_t mid = col.size() / 2;
    std::nth_element(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(mid), col.end());
    if (col[mid] > 0.0f) return col[mid];
    std::vector<float> nz;
    for (float v : col)
        if (v > 0) nz.push_back(v);
    return median_of(std::move(nz));
}

// Copies column j's counts of the given rows into `col` (one column at a time: fitting and
// applying never copy the whole matrix).
void gather_rows(const Eigen::MatrixXf& counts, Eigen::Index j, const std::vector<Eigen::Index>& rows,
                 std::vector<float>& col) {
    col.resize(rows.size());
    const float* c = counts.data() + j * counts.rows();
    for (std::size_t i = 0; i < rows.size(); ++i) col[i] = c[rows[i]];
}

// The network input before scaling; input_column computes the same per batch.
ZIMPUTE_ALWAYS_INLINE float transform(float y, float inv_sf, bool log1p) { return log1p ? fast_log1p(y * inv_sf) : y * inv_sf; }

}  // namespace

Eigen::VectorXf raw_size_factors(const Eigen::MatrixXf& counts, SizeFactorMethod method) {
    Eigen::VectorXf f(counts.cols());
    std::vector<float> col;
    for (Eigen::Index j = 0; j < counts.cols(); ++j) {
        col.assign(counts.col(j).data(), counts.col(j).data() + counts.rows());
        f(j) = raw_factor(col, method);
    }
    return f;
}

namespace {

// Cells with a count in any of `rows`.
std::vector<Eigen::Index> cells_with_counts(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& rows) {
    std::vector<Eigen::Index> cells;
    for (Eigen::Index j = 0; j < counts.cols(); ++j) {
        const float* c = counts.data() + j * counts.rows();
        for (const Eigen::Index r : rows)
            if (c[r] != 0.0f) {
                cells.push_back(j);
                break;
            }
    }
    return cells;
}

}  // namespace

PreprocessParams fit_preprocess(const Eigen::MatrixXf& counts, const PreprocessOptions& options) {
    PreprocessParams p;
    p.options = options;
    p.n_genes_total = counts.rows();
    // The genes to impute: DCA's count filter, then seurat_v3's most variable.
    std::vector<double> totals(static_cast<std::size_t>(counts.rows()), 0.0);
    for (Eigen::Index j = 0; j < counts.cols(); ++j) {
        const float* c = counts.data() + j * counts.rows();
        for (std::size_t i = 0; i < totals.size(); ++i) totals[i] += c[i];
    }
    const double min_counts = options.min_gene_counts;  // 0: every gene with any count
    std::vector<Eigen::Index> passing;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        if (totals[i] > 0 && totals[i] >= min_counts)
            passing.push_back(static_cast<Eigen::Index>(i));
        else if (totals[i] > 0)
            ++p.genes_below_min_counts;
    }
    p.genes_passing_counts = static_cast<Eigen::Index>(passing.size());
    if (passing.size() < 2)
        throw std::invalid_argument(
            "at least two genes need " +
            (options.min_gene_counts > 1 ? "at least " + std::to_string(options.min_gene_counts) +
                                               " counts (--min-gene-counts)"
                                         : std::string("non-zero counts")) +
            "; found " + std::to_string(passing.size()));
    const auto top = static_cast<std::size_t>(std::max(0, options.top_genes));
    if (top > 0 && top < passing.size()) {
        const std::vector<Eigen::Index> cells = cells_with_counts(counts, passing);
        if (cells.size() < 2)
            throw std::invalid_argument("at least two cells need non-zero counts; found " + std::to_string(cells.size()));
        p.kept_genes = top_variable_genes(counts, passing, cells, top);
    } else {
        p.kept_genes = std::move(passing);
    }
    if (p.kept_genes.size() < 2)
        throw std::invalid_argument("at least two genes must be imputed (--top-genes); found " +
                                    std::to_string(p.kept_genes.size()));
    // Cells without a count in the kept genes are set aside (as apply_preprocess does).
    const std::vector<Eigen::Index> nonempty = cells_with_counts(counts, p.kept_genes);
    if (nonempty.size() < 2)
        throw std::invalid_argument("at least two cells need non-zero counts; found " + std::to_string(nonempty.size()));

    std::vector<float> col, raw;
    for (Eigen::Index j : nonempty) {
        gather_rows(counts, j, p.kept_genes, col);
        raw.push_back(raw_factor(col, options.size_factors));
    }
    p.size_factor_reference = options.size_factors == SizeFactorMethod::none ? 1.0f : median_of(raw);
    if (!(p.size_factor_reference > 0)) p.size_factor_reference = 1.0f;

    // Moments of the normalized values in one pass, in double. Zero counts map to 0 and add
    // nothing to either sum.
    const std::size_t g = p.kept_genes.size();
    std::vector<double> sum(g, 0.0), sumsq(g, 0.0);
    for (std::size_t k = 0; k < nonempty.size(); ++k) {
        gather_rows(counts, nonempty[k], p.kept_genes, col);
        const float inv = 1.0f / checked_size_factor(raw[k] / p.size_factor_reference, nonempty[k]);
        for (std::size_t i = 0; i < g; ++i)
            if (col[i] != 0.0f) {
                const double x = transform(col[i], inv, options.log1p);
                sum[i] += x;
                sumsq[i] += x * x;
            }
    }
    const auto n = static_cast<double>(nonempty.size());
    auto sd = [](double s, double ss, double count) {
        const double mean = s / count;
        return std::sqrt(std::max(0.0, ss / count - mean * mean));
    };
    if (options.scale == ScaleMethod::per_gene) {
        p.center.resize(static_cast<Eigen::Index>(g));
        p.scale.resize(static_cast<Eigen::Index>(g));
        for (std::size_t i = 0; i < g; ++i) {
            p.center(static_cast<Eigen::Index>(i)) = static_cast<float>(sum[i] / n);
            p.scale(static_cast<Eigen::Index>(i)) = static_cast<float>(sd(sum[i], sumsq[i], n));
        }
    } else if (options.scale == ScaleMethod::global) {
        double s = 0, ss = 0;
        for (std::size_t i = 0; i < g; ++i) s += sum[i], ss += sumsq[i];
        const double count = n * static_cast<double>(g);
        p.center = Eigen::VectorXf::Constant(1, static_cast<float>(s / count));
        p.scale = Eigen::VectorXf::Constant(1, static_cast<float>(sd(s, ss, count)));
    } else {
        p.center = Eigen::VectorXf::Zero(1);
        p.scale = Eigen::VectorXf::Ones(1);
    }
    // A constant gene (or matrix) has sd 0: leave it centered rather than dividing by zero.
    for (Eigen::Index i = 0; i < p.scale.size(); ++i)
        if (!(p.scale(i) > 1e-6f)) p.scale(i) = 1.0f;
    return p;
}

Preprocessed apply_preprocess(const PreprocessParams& p, const Eigen::MatrixXf& counts,
                              const std::vector<Eigen::Index>* rows) {
    const Eigen::Index model_genes = rows ? static_cast<Eigen::Index>(rows->size()) : counts.rows();
    if (model_genes != p.n_genes_total)
        throw std::invalid_argument("the matrix has " + std::to_string(model_genes) + " genes, the model expects " +
                                    std::to_string(p.n_genes_total));
    // Rows of `counts` holding the model's kept genes.
    std::vector<Eigen::Index> data_rows(p.kept_genes.size());
    for (std::size_t i = 0; i < data_rows.size(); ++i) data_rows[i] = rows ? (*rows)[static_cast<std::size_t>(p.kept_genes[i])] : p.kept_genes[i];

    Preprocessed out;
    out.genes = static_cast<Eigen::Index>(data_rows.size());
    out.log1p = p.options.log1p;
    // First pass: kept cells, their size factors and the number of non-zeros, so the storage is
    // allocated once at its exact size.
    std::vector<float> col, sf;
    std::size_t nnz = 0;
    for (Eigen::Index j = 0; j < counts.cols(); ++j) {
        gather_rows(counts, j, data_rows, col);
        std::size_t nz = 0;
        for (float v : col) nz += v != 0.0f;
        if (nz == 0) continue;
        out.kept_cells.push_back(j);
        sf.push_back(checked_size_factor(raw_factor(col, p.options.size_factors) / p.size_factor_reference, j));
        nnz += nz;
    }
    if (out.kept_cells.empty()) throw std::invalid_argument("every cell is all zero in the model's genes");
    out.size_factors = Eigen::Map<Eigen::VectorXf>(sf.data(), static_cast<Eigen::Index>(sf.size()));
    out.start.reserve(out.kept_cells.size() + 1);
    out.gene.reserve(nnz);
    out.count.reserve(nnz);
    out.start.push_back(0);
    for (std::size_t k = 0; k < out.kept_cells.size(); ++k) {
        gather_rows(counts, out.kept_cells[k], data_rows, col);
        for (std::size_t i = 0; i < col.size(); ++i)
            if (col[i] != 0.0f) {
                out.gene.push_back(static_cast<std::int32_t>(i));
                out.count.push_back(col[i]);
            }
        out.start.push_back(static_cast<Eigen::Index>(out.gene.size()));
    }
    const Eigen::Index g = out.genes;
    const bool per_gene = p.center.size() != 1;
    out.input_gain.resize(g);
    out.input_zero.resize(g);
    for (Eigen::Index i = 0; i < g; ++i) {
        const float c = per_gene ? p.center(i) : p.center(0), s = per_gene ? p.scale(i) : p.scale(0);
        out.input_gain(i) = 1.0f / s;
        out.input_zero(i) = -c / s;
    }
    return out;
}

Eigen::Index Preprocessed::input_deviations(Eigen::Index j, float* out) const {
    const auto s = static_cast<std::size_t>(start[static_cast<std::size_t>(j)]);
    const auto n = static_cast<std::size_t>(start[static_cast<std::size_t>(j) + 1]) - s;
    // Computed per batch instead of stored (4 bytes less per non-zero), as a contiguous
    // vectorizable pass.
    const float inv = 1.0f / size_factors(j);
    const float* c = count.data() + s;
    const std::int32_t* g = gene.data() + s;
    const float* gain = input_gain.data();
#pragma omp simd
    for (std::size_t k = 0; k < n; ++k) out[k] = transform(c[k], inv, log1p) * gain[g[k]];
    return static_cast<Eigen::Index>(n);
}

void Preprocessed::input_column(Eigen::Index j, float* out) const {
    std::copy(input_zero.data(), input_zero.data() + genes, out);
    static thread_local std::vector<float> scratch;  // one cell's deviations, per thread
    if (scratch.size() < static_cast<std::size_t>(genes)) scratch.resize(static_cast<std::size_t>(genes));
    const Eigen::Index n = input_deviations(j, scratch.data());
    const std::int32_t* g = gene.data() + start[static_cast<std::size_t>(j)];
    for (Eigen::Index k = 0; k < n; ++k) out[g[k]] += scratch[static_cast<std::size_t>(k)];
}

void Preprocessed::counts_column(Eigen::Index j, float* out) const {
    std::fill(out, out + genes, 0.0f);
    for (Eigen::Index k = start[static_cast<std::size_t>(j)]; k < start[static_cast<std::size_t>(j) + 1]; ++k)
        out[gene[static_cast<std::size_t>(k)]] = count[static_cast<std::size_t>(k)];
}

Eigen::MatrixXf Preprocessed::dense_input() const {
    Eigen::MatrixXf m(genes, n_cells());
    for (Eigen::Index j = 0; j < n_cells(); ++j) input_column(j, m.col(j).data());
    return m;
}

Eigen::MatrixXf Preprocessed::dense_counts() const {
    Eigen::MatrixXf m(genes, n_cells());
    for (Eigen::Index j = 0; j < n_cells(); ++j) counts_column(j, m.col(j).data());
    return m;
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
