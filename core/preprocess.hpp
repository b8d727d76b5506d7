// Preprocessing: choose the genes to impute (all-zero genes, fewer than min_gene_counts, the
// top_genes most variable: core/gene_selection.hpp), set aside empty cells, per-cell size factors,
// log1p, z-score.
//
// Parameters are fitted on the training matrix (PreprocessParams) and applied unchanged to any
// matrix with the same genes, so a saved model imputes another file consistently.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace zimpute {

enum class SizeFactorMethod {
    libsize,  ///< DCA: total count / median total over training cells
    median,   ///< the course report: the cell's (G/2)-th smallest count / median over cells; zero medians guarded
    none      ///< all ones
};
enum class ScaleMethod {
    per_gene,  ///< DCA (scanpy scale): each gene to mean 0, sd 1
    global,    ///< the course report: one mean and sd over the whole matrix
    none
};

struct PreprocessOptions {
    SizeFactorMethod size_factors = SizeFactorMethod::libsize;
    ScaleMethod scale = ScaleMethod::per_gene;
    bool log1p = true;  ///< log(1 + x) after size-factor normalization
    /// Genes with fewer total counts in training are not imputed (DCA's filter_genes(min_counts));
    /// genes without any count never are, so 0 and 1 are the same.
    int min_gene_counts = 1;
    /// When more genes pass the count filter, only the top_genes most variable (scanpy's seurat_v3
    /// on the counts) are imputed; 0 = all, which measured best (README, "Defaults, and why").
    int top_genes = 0;
};

/// What was fitted on the training matrix.
struct PreprocessParams {
    PreprocessOptions options;
    Eigen::Index n_genes_total = 0;      ///< genes in the training file
    std::vector<Eigen::Index> kept_genes;  ///< the genes imputed (ascending): chosen by the options above
    float size_factor_reference = 1.0f;  ///< median library size (libsize) or median of medians (median)
    Eigen::VectorXf center, scale;       ///< per kept gene (per_gene) or length 1 (global/none)
    /// How kept_genes came about, for messages: genes with counts but fewer than min_gene_counts,
    /// and genes that passed the count filter (top_genes chooses among them). Set by
    /// fit_preprocess; not saved in model files (0 after loading).
    Eigen::Index genes_below_min_counts = 0, genes_passing_counts = 0;
};

/// A matrix ready for the network: only kept genes and non-empty cells, stored by column with
/// only the non-zero counts (scRNA-seq matrices are mostly zeros): 8 bytes per non-zero (gene and
/// count), where dense count, input and lgamma(count + 1) matrices took 12 bytes per entry. The
/// network input of a cell is rebuilt per batch: input_zero[g] for a zero, and
/// log1p(count / size factor) * input_gain[g] + input_zero[g] otherwise.
struct Preprocessed {
    std::vector<Eigen::Index> kept_cells;  ///< column indices into the original matrix
    Eigen::VectorXf size_factors;          ///< per kept cell
    Eigen::Index genes = 0;                ///< kept genes (rows)
    std::vector<Eigen::Index> start;       ///< kept cell j's non-zeros are [start[j], start[j + 1])
    std::vector<std::int32_t> gene;        ///< kept-gene index of each non-zero, ascending per cell
    std::vector<float> count;              ///< its raw count (the loss target)
    bool log1p = true;                     ///< input from log1p(count / size factor), else the ratio
    Eigen::VectorXf input_zero, input_gain;  ///< per kept gene: the input of a zero count; 1 / scale

    Eigen::Index n_genes() const { return genes; }
    Eigen::Index n_cells() const { return static_cast<Eigen::Index>(kept_cells.size()); }
    Eigen::Index nnz() const { return static_cast<Eigen::Index>(count.size()); }
    /// Writes kept cell j's network input (n_genes() floats). Thread-safe: the trainer fills a
    /// batch's columns on all its threads.
    void input_column(Eigen::Index j, float* out) const;
    /// Writes kept cell j's input minus input_zero at its non-zeros, in the order of `gene`
    /// ([start[j], start[j + 1])); returns their number. Thread-safe.
    Eigen::Index input_deviations(Eigen::Index j, float* out) const;
    /// Writes kept cell j's counts (n_genes() floats).
    void counts_column(Eigen::Index j, float* out) const;
    /// Dense kept genes x kept cells matrices (tests and small data).
    Eigen::MatrixXf dense_input() const;
    Eigen::MatrixXf dense_counts() const;

};

/// Fits parameters on a genes x cells count matrix, streaming over its columns (no copy of the
/// matrix): kept_genes are the genes with at least max(1, min_gene_counts) counts, and of those
/// the top_genes most variable (seurat_v3 over the cells with a count in them) if there are more.
/// Throws std::invalid_argument if fewer than two genes are kept or two cells have counts in them.
PreprocessParams fit_preprocess(const Eigen::MatrixXf& counts, const PreprocessOptions& options = {});

/// Applies fitted parameters. Model gene k is row k of `counts`, or row (*rows)[k] when `rows`
/// is given (a saved model applied to a file with its genes in another order); either way there
/// must be params.n_genes_total of them. Cells whose kept genes are all zero are set aside (not in
/// kept_cells).
Preprocessed apply_preprocess(const PreprocessParams& params, const Eigen::MatrixXf& counts,
                              const std::vector<Eigen::Index>* rows = nullptr);

/// The raw per-cell factor before dividing by the reference (library size or guarded median).
Eigen::VectorXf raw_size_factors(const Eigen::MatrixXf& counts, SizeFactorMethod method);

SizeFactorMethod parse_size_factor_method(const std::string& s);
ScaleMethod parse_scale_method(const std::string& s);
std::string to_string(SizeFactorMethod m);
std::string to_string(ScaleMethod m);

}  // namespace zimpute
