// Self-calibration (issue 19): which training settings and imputation rule recover the user's
// own counts best. A share of the observed non-zero counts is held out (set to 0, as dropouts
// would be), each candidate is trained on the rest, and every imputation rule is scored on how
// close it brings the held-out entries to what was there, on two scales: counts,
// ||x - imputed|| / ||x||, the scale of the zero distance ratio, and logs,
// ||log1p x - log1p imputed|| / ||log1p x||, the scale of the dropout log-correlation. The
// score is their geometric mean (1 = no better than leaving the zeros). The numerators also
// hold what a rule changes in the observed non-zeros (nothing but for `mean`, which replaces
// them by mu): without it `mean` won every time by a hair on the held-out entries alone, and
// on the course-like files it took the course's distance ratio over all entries from 0.26 to 1.26.
// The training is chosen first, by the `mean` rule's score over the held-out entries alone (how
// well mu recovers them; with the non-zeros' term the rule's cost there decided between
// trainings and chose the worse one on a dense simulation), then that training's rule.
//
// Why the held-out entries only, not every zero of the masked matrix as bench/quality.py
// scores: the user's own zeros include real dropouts, and a good model fills them, which a
// score that takes every zero as a true 0 punishes (measured: on sctransform's pbmc such a score
// came out ~1.0 for every candidate and chose the worst). Why both scales: on bench/quality.py's
// sets, the count scale alone chose the mean rule where it is worst (pbmc_small, a sparse
// simulation), the log scale alone could not tell the trainings apart on a dense simulation; their
// product chose the best or nearly best on all of them (bench/README.md, "Self-calibration").
// The rules cost one inference pass, not a training, so all of them are scored on each
// candidate. The caller then trains the chosen settings on all the data (Session::start_training).
//
// Why these candidates: on bench/quality.py's real and simulated sets, the default training
// (Adam 0.01, guarded loss) wins on large simulations and the DCA training (RMSprop 1e-3 with
// value clipping, DCA's loss) on real counts and small sparse sets; per-gene dispersion and a
// lower Adam learning rate were never best, so they are not tried (two trainings plus the final
// one keep calibration within 3x a single training).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "count_matrix.hpp"
#include "settings.hpp"
#include "thread_pool.hpp"
#include "trainer.hpp"

namespace zimpute {

/// The training settings tried, by name: "default" and "dca" (the presets' optimizer, learning
/// rate, clipping and loss). Everything else (network, preprocessing, epochs, seed) is the user's.
std::vector<std::string> calibration_candidates();
/// `base` with candidate `name`'s training settings and `rule`.
Settings candidate_settings(const Settings& base, const std::string& name, ImputeRule rule);

struct CalibrationTrial {
    std::string candidate;  ///< training settings tried (calibration_candidates())
    ImputeRule rule = ImputeRule::posterior;
    double score = 0;        ///< sqrt(count_error * log_error): lower is better
    double held_out_score = 0;  ///< the same over the held-out entries only (no observed non-zeros)
    double count_error = 0;  ///< ||x - imputed|| over the held-out counts and the observed non-zeros, / ||held-out x||
    double log_error = 0;    ///< the same of log1p
    int epochs = 0;         ///< of the candidate's training
    double seconds = 0;     ///< of the candidate's training
};

struct CalibrationResult {
    std::vector<CalibrationTrial> trials;  ///< every candidate x rule, in the order tried
    /// Index into trials: of the training whose `mean` trial has the lowest held_out_score (how
    /// well mu itself recovers the held-out counts), the rule with the lowest score.
    std::size_t chosen = 0;
    long held_out = 0;                     ///< non-zero counts held out
    Settings settings;                     ///< the base settings with the chosen candidate and rule

    /// One line of JSON: {"held_out":N,"chosen":{...},"trials":[{...},...]}; the model file and
    /// RESULT_JSON carry it.
    std::string json() const;
};

/// The score a training is chosen on: its `mean` trial's held_out_score (how well mu itself
/// recovers the held-out counts); infinity when `candidate` has no such trial.
double calibration_training_score(const std::vector<CalibrationTrial>& trials, const std::string& candidate);

/// Runs the candidates one after another, stepped like a Trainer.
class Calibration {
public:
    /// `data` must outlive the calibration. Throws InputError when the matrix has too few
    /// non-zero counts to hold any out.
    Calibration(const CountMatrix& data, const Settings& base, const Threads& threads = {},
                double held_out_fraction = 0.1);

    /// Trains for about `budget_seconds` (at least one batch), returning early when a candidate
    /// has been scored (so the caller can report it before the next one starts); true when every
    /// candidate is scored or the calibration was cancelled.
    bool step(double budget_seconds);
    void cancel();
    /// Frees the masked copy and the last candidate (after done(): result() stays; masked() and
    /// trainer() are then empty).
    void release();
    bool done() const { return done_; }
    bool cancelled() const { return cancelled_; }

    int candidate() const { return index_; }  ///< 0-based: the one training (or last scored)
    int candidates() const { return static_cast<int>(names_.size()); }
    const std::string& candidate_name() const { return names_[static_cast<std::size_t>(index_)]; }
    Trainer* trainer() { return trainer_.get(); }  ///< the candidate's training (progress); null before the first step
    const CalibrationResult& result() const { return result_; }
    /// The data with the held-out counts set to 0: what the candidates train on.
    const Eigen::MatrixXf& masked() const { return masked_.counts; }
    double seconds() const { return seconds_; }

    std::function<void(const EpochReport&)> on_epoch;                   ///< passed to each trainer
    std::function<void(const std::vector<CalibrationTrial>&)> on_scored;  ///< a candidate's rules

private:
    void start_candidate();
    void score_candidate();
    void choose();

    const CountMatrix& data_;
    Settings base_;
    Threads threads_;
    std::vector<std::string> names_;
    CountMatrix masked_;
    std::vector<std::pair<Eigen::Index, Eigen::Index>> held_;  // (gene, cell) of each held-out count
    std::vector<std::size_t> held_first_;  // cell j's held-out entries: held_[held_first_[j] .. held_first_[j + 1])
    double held_norm2_ = 0, held_log_norm2_ = 0;  // sums of their squares and of their log1p's squares
    Model model_;
    std::unique_ptr<Preprocessed> prepared_;
    std::unique_ptr<Trainer> trainer_;
    int index_ = 0;
    bool next_ = false;  // the candidate index_ is scored; the next step starts the next
    bool done_ = false, cancelled_ = false;
    double seconds_ = 0;
    CalibrationResult result_;
};

}  // namespace zimpute
