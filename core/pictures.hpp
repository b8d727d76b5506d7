// What the page draws after a training (web/pictures-panel.js): a 2-D map of the cells before and
// after imputation, a heatmap of the most variable genes, imputed vs true on true dropouts, and
// the counts behind the "what happened" line. Computed here because the map needs a PCA of the
// whole matrix, which is too slow in JavaScript and would mean copying the matrix out of wasm.
// Plain C++ on matrices (no Session, no Emscripten): the binding gathers the inputs.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace zimpute {

struct PictureOptions {
    int map_cells = 5000;     ///< cells on the map, evenly strided beyond (a scatter of more is a blot)
    int map_genes = 500;      ///< the most variable genes the PCA uses (as scanpy's default workflow)
    int heat_genes = 30;      ///< heatmap rows
    int heat_cells = 60;      ///< heatmap columns, evenly strided over the map's cells, grouped
    int truth_points = 3000;  ///< imputed-vs-true pairs at most
    int clusters = 4;         ///< k of the k-means on the latent when the file has no group column
    int max_groups = 12;      ///< a label column with more distinct values is not a grouping (ids)
    std::uint64_t seed = 42;
};

struct Pictures {
    std::vector<Eigen::Index> map_cells;        ///< data columns on the map
    Eigen::MatrixXf map_observed, map_imputed;  ///< 2 x map cells: PC1, PC2 of log1p(normalized)
    std::vector<int> group;                     ///< per map cell, an index into group_names
    std::vector<std::string> group_names;
    bool groups_from_labels = false;            ///< false: clusters of the latent
    std::vector<Eigen::Index> heat_genes;       ///< data rows, most variable first
    std::vector<Eigen::Index> heat_cells;       ///< data columns, ordered by group
    Eigen::MatrixXf heat_observed, heat_imputed;  ///< heat genes x heat cells, log1p(count)
    std::vector<float> truth_true, truth_imputed;  ///< log1p, on true dropouts (evenly sampled)
    double entries = 0;
    double zeros = 0;          ///< observed zeros
    double filled = 0;         ///< observed zeros given a non-zero value (the metrics' "predicted dropouts")
    double filled_one = 0;     ///< of those, how many are 0.5 or more (round to a count of 1 or more)
    double unsure = 0;         ///< observed zeros whose dropout probability pi is in [0.4, 0.6]
    double true_dropouts = 0;  ///< with a truth: observed zero, true count non-zero
};

/// log1p(count / s) for the given columns, s = the cell's total over the median total of those
/// columns (a cell without counts keeps s = 1). Rows: `rows` (all when empty).
Eigen::MatrixXf log_normalized(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& cols,
                               const std::vector<Eigen::Index>& rows = {});

/// The n rows with the largest variance over the columns (ties: the lower row first).
std::vector<Eigen::Index> most_variable_rows(const Eigen::MatrixXf& x, int n);

/// The first two principal components' scores (2 x columns) of x (features x samples, centred
/// here), by subspace iteration on x x^T. Signs: each component's largest loading is positive.
Eigen::MatrixXf pca2(const Eigen::MatrixXf& x, int max_iterations = 300);

/// k-means (k-means++ start, seeded) of the columns of points; cluster 0 is the largest.
std::vector<int> kmeans(const Eigen::MatrixXf& points, int k, std::uint64_t seed);

/// Everything above. observed, imputed, pi: genes x cells; latent: units x cells; truth (may be
/// null) aligned to observed; labels: one per cell, or empty.
Pictures make_pictures(const Eigen::MatrixXf& observed, const Eigen::MatrixXf& imputed, const Eigen::MatrixXf& pi,
                       const Eigen::MatrixXf& latent, const Eigen::MatrixXf* truth,
                       const std::vector<std::string>& labels, const PictureOptions& options = {});

}  // namespace zimpute
