// The course's imputation metrics against a ground-truth matrix, and a few more.
#pragma once

#include <string>

#include "count_matrix.hpp"

namespace zimpute {

struct Metrics {
    long zero_num = 0;             ///< observed zeros
    long true_dropout_num = 0;     ///< observed zero, true non-zero
    long predict_dropout_num = 0;  ///< observed zero, imputed non-zero
    long correct_dropout_num = 0;  ///< both of the above
    double recall = 0;             ///< correct / true dropouts
    double precision = 0;          ///< correct / predicted dropouts
    double predict_distance = 0;   ///< ||true - imputed||_F
    double origin_distance = 0;    ///< ||true - observed||_F
    double distance_ratio = 0;     ///< predict / origin
    double zero_distance_ratio = 0;  ///< the same ratio over observed-zero entries only
    double dropout_log_pearson = 0;  ///< Pearson r of log1p(true) vs log1p(imputed) on true dropouts
    double mean_gene_correlation = 0;  ///< mean over genes of Pearson r(true, imputed) across cells
    double mean_cell_correlation = 0;  ///< mean over cells of Pearson r(true, imputed) across genes
};

/// All three matrices are genes x cells of one shape.
Metrics compute_metrics(const Eigen::MatrixXf& observed, const Eigen::MatrixXf& imputed, const Eigen::MatrixXf& truth);

/// Returns the truth's counts arranged as `observed` (genes x cells): labels are matched by name
/// when both files name them, otherwise shapes must agree. Throws InputError naming what differs.
Eigen::MatrixXf align_truth(const CountMatrix& observed, const CountMatrix& truth);

/// One JSON object; `extra` (already JSON members, e.g. "\"rule\":\"course\"") is appended if given.
std::string metrics_json(const Metrics& m, const std::string& extra = "");

}  // namespace zimpute
