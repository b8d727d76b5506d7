// The decisions taken at the end of an epoch, each a small policy fed the monitored loss (the
// validation loss, or the training loss without a validation set) and tested on made-up loss
// sequences: Keras' EarlyStopping (restore_best_weights) and ReduceLROnPlateau, as DCA uses them,
// and the divergence guard. The trainer owns the weights and the snapshots; a policy only says
// what to do with them.
#pragma once

#include <stdexcept>
#include <string>

namespace zimpute {

/// Stops after `patience` epochs without a new best (a loss below best - min_delta); the
/// trainer keeps the best epoch's weights and, with restore-best (or a cancel), restores them at the end.
class EarlyStopping {
public:
    EarlyStopping(int patience, double min_delta) : patience_(patience), min_delta_(min_delta) {}

    /// Records one epoch's loss (finite); true if it is a new best (take a snapshot).
    bool improved(double loss) {
        if (have_best_ && !(loss < best_ - min_delta_)) {
            ++bad_epochs_;
            return false;
        }
        best_ = loss;
        have_best_ = true;
        bad_epochs_ = 0;
        return true;
    }
    bool should_stop() const { return bad_epochs_ >= patience_; }
    bool has_best() const { return have_best_; }
    double best() const { return best_; }
    int bad_epochs() const { return bad_epochs_; }

private:
    int patience_;
    double min_delta_;
    double best_ = 0;
    bool have_best_ = false;
    int bad_epochs_ = 0;
};

/// Multiplies the learning rate by `factor` after `patience` epochs without a new best, then
/// waits `patience` epochs again (Keras ReduceLROnPlateau, cooldown 0).
class PlateauCut {
public:
    PlateauCut(int patience, double factor) : patience_(patience), factor_(factor) {}

    /// After an epoch: the learning rate to go on with.
    double after_epoch(bool improved, double lr) {
        if (improved) {
            waited_ = 0;
            return lr;
        }
        if (++waited_ < patience_) return lr;
        waited_ = 0;
        return lr * factor_;
    }

private:
    int patience_;
    double factor_;
    int waited_ = 0;
};

/// What to do when a batch, the weights or the validation loss turn non-finite: go back to the
/// weights of the last epoch that ended finite, or to the initial weights if those diverged
/// again before an epoch ended (an epoch's last batches may be finite while its final weights
/// overflow on other cells), and halve the learning rate; give up after `max_recoveries`.
class DivergenceGuard {
public:
    enum class Restore { last_good_epoch, initial };

    explicit DivergenceGuard(int max_recoveries) : max_recoveries_(max_recoveries) {}

    /// Records a divergence with `epochs_done` epochs completed. Throws std::runtime_error (with
    /// `advice`) past max_recoveries; otherwise says which weights to restore.
    Restore diverged(int epochs_done, const std::string& advice) {
        if (++recoveries_ > max_recoveries_)
            throw std::runtime_error("training diverged " + std::to_string(recoveries_) +
                                     " times (the loss became NaN or infinite); " + advice);
        const bool from_good = epochs_done > 0 && since_good_ == 0;
        ++since_good_;
        return from_good ? Restore::last_good_epoch : Restore::initial;
    }
    /// An epoch ended with finite weights and loss: its weights are the new last good ones.
    void epoch_ended() { since_good_ = 0; }
    int recoveries() const { return recoveries_; }

private:
    int max_recoveries_;
    int recoveries_ = 0;
    int since_good_ = 0;  // divergences since the last good snapshot was taken
};

}  // namespace zimpute
