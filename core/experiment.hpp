// The course experiment in one object: split the cells 7:3 into a test and a validation part,
// train each model variant on the test part, impute the validation part with it, and compare
// the course's metrics. Stepped in time-budgeted slices like Trainer, so a caller can show
// progress and cancel. Presentation (tables, plots) is the front ends' (cli/experiment_table,
// wasm/experiment_plots).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "metrics.hpp"
#include "session.hpp"

namespace zimpute {

struct Variant {
    std::string name;
    Settings settings;
};

/// The course report's four models on top of `base` (Model I: no BatchNorm, original loss;
/// II: no BatchNorm, guarded loss; III: BatchNorm, original; IV: BatchNorm, guarded), then the
/// DCA preset and zimpute's defaults. Epochs and seed of `base` apply to all.
std::vector<Variant> course_variants(const Settings& base);

struct ExperimentRow {
    std::string name;
    Metrics metrics;  ///< on the validation part
    int epochs = 0;
    double seconds = 0;
    std::string stop_reason;
    int recoveries = 0;
    std::vector<EpochReport> history;
};

class Experiment {
public:
    /// `data` and `truth` are the whole matrix and its truth (aligned, same layout); `fraction`
    /// of the cells (seeded) form the test part used for training.
    Experiment(const CountMatrix& data, const Eigen::MatrixXf& truth, std::vector<Variant> variants, double fraction,
               std::uint64_t seed);

    /// Works for about budget_seconds; returns true when every variant is done (or cancelled).
    bool step(double budget_seconds);
    void cancel();

    bool done() const { return current_ >= variants_.size() || cancelled_; }
    std::size_t current() const { return current_; }  ///< index of the variant in training
    const std::vector<Variant>& variants() const { return variants_; }
    const std::vector<ExperimentRow>& rows() const { return rows_; }
    /// Progress of the running variant (nullptr between variants and at the end).
    const Trainer* trainer() const { return train_ ? train_->trainer() : nullptr; }
    std::size_t test_cells() const { return test_.size(); }
    std::size_t validation_cells() const { return validation_.size(); }

    /// Index of the row with the smallest predict distance (-1 without rows).
    int best() const;
    /// The validation part imputed by the best variant, with its truth (for plots); nullptr
    /// without a best row.
    Session* best_session() const;

private:
    void start_variant();
    void finish_variant();

    std::vector<Variant> variants_;
    std::vector<Eigen::Index> test_, validation_;
    CountMatrix test_data_, validation_data_;
    Eigen::MatrixXf validation_truth_;
    std::size_t current_ = 0;
    bool cancelled_ = false;
    std::unique_ptr<Session> train_;
    std::vector<std::unique_ptr<Session>> evaluated_;  // one per row, kept for plots
    std::vector<ExperimentRow> rows_;
};

}  // namespace zimpute
