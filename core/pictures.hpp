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
    int max_clusters = 6;     ///< without a group column: k-means with k in 2..max_clusters, best silhouette
    int cluster_components = 10;  ///< the imputed cells' principal components the clusters are found in
    /// Subspace iterations at most: real data converges in far fewer; data without structure
    /// never does, and 500 genes x 5000 cells of noise take 0.8 s (native) for 50.
    int pca_iterations = 40;
    int max_groups = 12;      ///< a label column with more distinct values is not a grouping (ids)
    std::uint64_t seed = 42;
};

struct Pictures {
    std::vector<Eigen::Index> map_cells;        ///< data columns on the map
    Eigen::MatrixXf map_observed, map_imputed;  ///< 2 x map cells: PC1, PC2 of log1p(normalized)
    std::vector<int> group;                     ///< per map cell, an index into group_names
    std::vector<std::string> group_names;
    bool groups_from_labels = false;            ///< false: clusters of the imputed cells (see clusters)
    std::vector<Eigen::Index> heat_genes;       ///< data rows, the genes that tell the groups apart best first
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

/// The n rows whose values differ most between the groups of the columns, by the share of their
/// variance that lies between the groups' means (eta squared; ties and rows without variance:
/// the lower row first). With fewer than two groups, the first n rows.
std::vector<Eigen::Index> rows_telling_groups_apart(const Eigen::MatrixXf& x, const std::vector<int>& group, int n);

/// The first `components` principal components' scores (components x columns) of x (features x
/// samples, centred here), by subspace iteration on x x^T, not a full eigen-decomposition (500
/// genes x 5000 cells in a browser). Signs: each component's largest loading is positive.
Eigen::MatrixXf pca(const Eigen::MatrixXf& x, int components, int max_iterations = 100);
inline Eigen::MatrixXf pca2(const Eigen::MatrixXf& x) { return pca(x, 2); }

/// k-means of the columns of points: the best (least within-cluster sum of squares) of `restarts`
/// seeded k-means++ starts; cluster 0 is the largest, empty clusters are dropped.
std::vector<int> kmeans(const Eigen::MatrixXf& points, int k, std::uint64_t seed, int restarts = 10);

/// The mean silhouette of a clustering of the columns of points (Euclidean; -1..1, higher is
/// better separated); 0 for fewer than two clusters.
double silhouette(const Eigen::MatrixXf& points, const std::vector<int>& assign);

/// k-means with the k in 2..k_max whose clustering has the best silhouette (scored on at most 1000
/// evenly strided columns).
std::vector<int> clusters(const Eigen::MatrixXf& points, int k_max, std::uint64_t seed);

/// Everything above. observed, imputed, pi: genes x cells; truth (may be null) aligned to
/// observed; labels: one per cell, or empty.
Pictures make_pictures(const Eigen::MatrixXf& observed, const Eigen::MatrixXf& imputed, const Eigen::MatrixXf& pi,
                       const Eigen::MatrixXf* truth, const std::vector<std::string>& labels,
                       const PictureOptions& options = {});

}  // namespace zimpute
