// Highly variable genes the way scanpy's highly_variable_genes(flavor="seurat_v3") computes them
// on raw counts (Stuart et al., Cell 2019), cells as observations:
//   mean and variance (ddof 1) per gene; a loess (degree 2, span 0.3) of log10 variance on
//   log10 mean over the non-constant genes; reg_std = sqrt(10^fitted); each gene's counts clipped
//   at reg_std * sqrt(N) + mean; the normalized variance
//     (N mean^2 + sum(clipped^2) - 2 mean sum(clipped)) / ((N - 1) reg_std^2)
//   ranks the genes, most variable first, constant genes last.
// The loess is the direct fit (skmisc's loess with surface="direct"); scanpy runs skmisc's default
// surface="interpolate", a kd-tree interpolation that approximates it.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

namespace zimpute {

/// The direct local-polynomial loess fit at every x: for each point, the q = floor(span * n)
/// nearest points (at least degree + 1, at most n) weighted by tricube(distance / the largest of
/// their distances), a weighted least-squares polynomial of `degree` (minimum-norm when the points
/// do not determine it, e.g. all at one x), evaluated at the point. Gaussian family, no robustness
/// iterations; degree at most kMaxLoessDegree. Returns the fitted values in the order of x.
constexpr int kMaxLoessDegree = 3;
Eigen::VectorXd loess_fit(const Eigen::VectorXd& x, const Eigen::VectorXd& y, double span = 0.3, int degree = 2);

/// seurat_v3's per-gene quantities for the given genes (rows of `counts`, genes x cells) over the
/// given cells (columns), in the order of `genes`.
struct SeuratV3 {
    Eigen::VectorXd mean, variance;  ///< over the cells; variance with ddof 1
    std::vector<bool> constant;      ///< variance 0: no loess, reg_std 1
    Eigen::VectorXd fitted;          ///< the loess fit of log10 variance (0 for constant genes)
    Eigen::VectorXd norm_variance;   ///< the score the genes are ranked by
};
SeuratV3 seurat_v3(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& genes,
                   const std::vector<Eigen::Index>& cells, double span = 0.3);

/// Positions into the score's genes, most variable first: norm_variance descending, constant genes
/// last, ties in the genes' order.
std::vector<std::size_t> rank_genes(const SeuratV3& scores);

/// The `n` most variable of `genes` by seurat_v3 over `cells`, in ascending order (all of them when
/// n >= genes.size()).
std::vector<Eigen::Index> top_variable_genes(const Eigen::MatrixXf& counts, const std::vector<Eigen::Index>& genes,
                                             const std::vector<Eigen::Index>& cells, std::size_t n);

}  // namespace zimpute
