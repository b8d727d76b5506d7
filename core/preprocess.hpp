// Preprocessing: set aside all-zero genes and cells, per-cell size factors, log1p, z-score.
//
// Parameters are fitted on the training matrix (PreprocessParams) and applied unchanged to any
// matrix with the same genes, so a saved model imputes another file consistently.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace zimpute {

enum class SizeFactorMethod {
    libsize,  ///< DCA: total count / median total over training cells
    median,   ///< seed: the cell's (G/2)-th smallest count / median over cells; zero medians guarded
    none      ///< all ones
};
enum class ScaleMethod {
    per_gene,  ///< DCA (scanpy scale): each gene to mean 0, sd 1
    global,    ///< seed: one mean and sd over the whole matrix
    none
};

struct PreprocessOptions {
    SizeFactorMethod size_factors = SizeFactorMethod::libsize;
    ScaleMethod scale = ScaleMethod::per_gene;
    bool log1p = true;  ///< log(1 + x) after size-factor normalization
};

/// What was fitted on the training matrix.
struct PreprocessParams {
    PreprocessOptions options;
    Eigen::Index n_genes_total = 0;      ///< genes in the training file
    std::vector<Eigen::Index> kept_genes;  ///< indices of genes with any count in training
    float size_factor_reference = 1.0f;  ///< median library size (libsize) or median of medians (median)
    Eigen::VectorXf center, scale;       ///< per kept gene (per_gene) or length 1 (global/none)
};

/// A matrix ready for the network: only kept genes and non-empty cells.
struct Preprocessed {
    std::vector<Eigen::Index> kept_cells;  ///< column indices into the original matrix
    Eigen::MatrixXf counts;                ///< kept genes x kept cells, raw counts (loss targets)
    Eigen::MatrixXf input;                 ///< same shape, normalized network input
    Eigen::VectorXf size_factors;          ///< per kept cell
};

/// Fits parameters on a genes x cells count matrix. Throws std::invalid_argument if fewer than
/// two genes or cells have any counts.
PreprocessParams fit_preprocess(const Eigen::MatrixXf& counts, const PreprocessOptions& options = {});

/// Applies fitted parameters. `counts` must have params.n_genes_total rows. Cells whose kept
/// genes are all zero are set aside (not in kept_cells).
Preprocessed apply_preprocess(const PreprocessParams& params, const Eigen::MatrixXf& counts);

/// The raw per-cell factor before dividing by the reference (library size or guarded median).
Eigen::VectorXf raw_size_factors(const Eigen::MatrixXf& counts, SizeFactorMethod method);

SizeFactorMethod parse_size_factor_method(const std::string& s);
ScaleMethod parse_scale_method(const std::string& s);
std::string to_string(SizeFactorMethod m);
std::string to_string(ScaleMethod m);

}  // namespace zimpute
