// Training as a stateful object stepped in time-budgeted slices, so a caller (the CLI, a Web
// Worker) can report progress between slices and honour a cancel at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "count_matrix.hpp"
#include "network.hpp"
#include "optimizer.hpp"
#include "preprocess.hpp"
#include "rng.hpp"
#include "settings.hpp"
#include "thread_pool.hpp"
#include "training_policies.hpp"

namespace zimpute {

/// A trained (or training) model: what is needed to impute any matrix with the same genes.
struct Model {
    Settings settings;
    PreprocessParams prep;
    std::vector<std::string> genes;  ///< all gene names of the training file, in order
    std::unique_ptr<Network<float>> net;
    std::string calibration;  ///< CalibrationResult::json() of how settings were chosen, or empty
};

/// Fits preprocessing on `data` and builds a freshly initialised network (seeded). The network
/// runs on the calling thread until run_on() says otherwise.
Model create_model(const CountMatrix& data, const Settings& settings);

/// Splits the model's batches (training and inference) across `threads`: a setting of the run,
/// not of the model (model files do not carry it).
void run_on(Model& model, const Threads& threads);

struct EpochReport {
    int epoch = 0;              ///< 1-based
    double train_loss = 0;      ///< mean over the epoch's batches
    double val_loss = 0;        ///< NaN without a validation set
    double learning_rate = 0;
    double seconds = 0;         ///< wall time of this epoch
    bool improved = false;      ///< new best of the monitored loss
    std::string event;          ///< learning-rate cut, divergence recovery, early stop
};

enum class StopReason { running, completed, early_stopping, cancelled };
std::string to_string(StopReason r);

// Counts below this that are whole numbers take lgamma(y + 1) from a table.
constexpr std::size_t kLgammaTable = 4096;

class Trainer {
public:
    /// `model` and `data` must outlive the trainer. `data` comes from apply_preprocess(model.prep, ...).
    /// Batches are split across `threads` (run_on).
    Trainer(Model& model, const Preprocessed& data, const Threads& threads = {});

    /// Runs minibatches until `budget_seconds` of wall time have passed (at least one batch) or
    /// training ends. Returns true when training has ended. Throws std::runtime_error if the
    /// loss diverges more than max_recoveries times.
    bool step(double budget_seconds);
    /// Steps until the end, calling on_epoch after each epoch.
    void run();
    /// Asks training to stop before the next batch (safe from another thread).
    void cancel() { cancel_requested_ = true; }

    bool done() const { return reason_ != StopReason::running; }
    StopReason stop_reason() const { return reason_; }
    int epoch() const { return epoch_; }  ///< epochs completed
    int epochs() const { return options_.epochs; }
    double epoch_fraction() const;        ///< progress within the current epoch, 0..1
    int recoveries() const { return guard_.recoveries(); }
    int threads() const { return threads_.count; }
    double learning_rate() const { return lr_; }  ///< current (after cuts and recoveries)
    double train_seconds() const { return train_seconds_; }
    Eigen::Index n_train() const { return static_cast<Eigen::Index>(train_idx_.size()); }
    Eigen::Index n_validation() const { return static_cast<Eigen::Index>(val_idx_.size()); }
    const std::vector<EpochReport>& history() const { return history_; }

    std::function<void(const EpochReport&)> on_epoch;

private:
    struct Snapshot {
        Vec<float> params, mean, var;
    };
    void take(Snapshot& s) const;
    void restore(const Snapshot& s);
    void start_epoch();
    bool run_batch();  // false if the loss diverged
    void recover(const std::string& where);
    void finish_epoch();
    bool weights_finite();     // recovers if not
    double validate(double train_loss);  // the monitored loss (recalibrates BatchNorm first)
    void end_epoch(EpochReport& r, double monitored, std::chrono::steady_clock::time_point started);
    void add_event(const std::string& e);
    void finish(StopReason r);
    double validation_loss();
    void gather(const std::vector<Eigen::Index>& cells, std::size_t from, Eigen::Index b);
    void set_input(Eigen::Index k, std::size_t cell);  // batch slot k <- the cell's input deviations

    Model& model_;
    Network<float>& net_;
    Threads threads_;
    const Preprocessed& data_;
    TrainOptions options_;
    LossOptions loss_;
    std::vector<float> lgamma_table_;  // lgamma(k + 1) for small integer counts k (most counts)
    std::vector<Eigen::Index> train_idx_, val_idx_, order_;
    SparseInput<float> xb_;            // batch inputs: deviations from the zero-count input at the non-zeros
    kernel::CountBatch<float> counts_;  // the batch's non-zero counts, as the loss reads them
    Eigen::VectorXf sb_;
    OptimizerState<float> opt_state_;
    Rng rng_;
    double lr_;
    EarlyStopping early_;
    PlateauCut plateau_;
    DivergenceGuard guard_;
    int epoch_ = 0;
    std::size_t batch_start_ = 0;
    double epoch_loss_ = 0;
    long epoch_batches_ = 0;
    // good_snap_: the last epoch that ended finite; initial_snap_: the weights training began
    // with (DivergenceGuard::Restore says which to go back to).
    Snapshot best_snap_, good_snap_, initial_snap_;
    std::string pending_event_;
    double epoch_seconds_ = 0;  // time spent in this epoch's batches, not in the caller's pauses
    double train_seconds_ = 0;
    std::atomic<bool> cancel_requested_{false};
    StopReason reason_ = StopReason::running;
    std::vector<EpochReport> history_;
};

}  // namespace zimpute
