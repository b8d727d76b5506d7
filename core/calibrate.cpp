#include "calibrate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "impute.hpp"
#include "rng.hpp"

namespace zimpute {

std::vector<std::string> calibration_candidates() { return {"default", "dca"}; }

Settings candidate_settings(const Settings& base, const std::string& name, ImputeRule rule) {
    const Settings p = preset(name);  // throws for an unknown name
    Settings s = base;
    const int threads = s.train.threads;
    s.train.optimizer = p.train.optimizer;
    s.train.optimizer.weight_decay = base.train.optimizer.weight_decay;  // not a preset's choice
    s.loss.kind = p.loss.kind;
    s.train.threads = threads;
    s.rule = rule;
    s.calibrate = false;  // the chosen settings train once (as many models as `ensemble` says)
    return s;
}

namespace {

const ImputeRule kRules[] = {ImputeRule::posterior, ImputeRule::mean, ImputeRule::course};

std::string json_double(double d) {
    if (!std::isfinite(d)) return "null";  // JSON has no NaN or infinity
    std::ostringstream os;
    os.precision(6);
    os << d;
    return os.str();
}

std::string trial_json(const CalibrationTrial& t) {
    return "{\"candidate\":\"" + t.candidate + "\",\"rule\":\"" + to_string(t.rule) +
           "\",\"score\":" + json_double(t.score) + ",\"held_out_score\":" + json_double(t.held_out_score) +
           ",\"count_error\":" + json_double(t.count_error) +
           ",\"log_error\":" + json_double(t.log_error) + ",\"epochs\":" + std::to_string(t.epochs) +
           ",\"seconds\":" + json_double(t.seconds) + "}";
}

}  // namespace

std::string CalibrationResult::json() const {
    std::string j = "{\"held_out\":" + std::to_string(held_out);
    if (chosen < trials.size()) j += ",\"chosen\":" + trial_json(trials[chosen]);
    j += ",\"trials\":[";
    for (std::size_t k = 0; k < trials.size(); ++k) j += (k ? "," : "") + trial_json(trials[k]);
    return j + "]}";
}

Calibration::Calibration(const CountMatrix& data, const Settings& base, const Threads& threads, double held_out_fraction)
    : data_(data), base_(base), threads_(threads), names_(calibration_candidates()) {
    // Held-out counts drawn with their own stream of the seed, so the candidates' weights and
    // splits are those of an ordinary run with the same seed.
    masked_.counts = data.counts;
    Rng rng(base.seed ^ 0x63616c6962726174ULL);
    held_first_.assign(static_cast<std::size_t>(masked_.counts.cols()) + 1, 0);
    for (Eigen::Index j = 0; j < masked_.counts.cols(); ++j) {
        for (Eigen::Index i = 0; i < masked_.counts.rows(); ++i) {
            float& x = masked_.counts(i, j);
            if (x == 0 || rng.uniform() >= held_out_fraction) continue;
            held_.emplace_back(i, j);
            held_norm2_ += static_cast<double>(x) * x;
            held_log_norm2_ += std::log1p(static_cast<double>(x)) * std::log1p(static_cast<double>(x));
            x = 0;
        }
        held_first_[static_cast<std::size_t>(j) + 1] = held_.size();
    }
    if (held_.empty())
        throw InputError("too few non-zero counts to calibrate on (none of them was held out); "
                         "name the settings instead of --calibrate");
    result_.held_out = static_cast<long>(held_.size());
}

void Calibration::start_candidate() {
    const Settings s = candidate_settings(base_, names_[static_cast<std::size_t>(index_)], base_.rule);
    trainer_.reset();  // it refers to the model and the prepared data replaced here
    prepared_.reset();
    model_ = create_model(masked_, s);
    run_on(model_, threads_);
    prepared_ = std::make_unique<Preprocessed>(apply_preprocess(model_.prep, masked_.counts));
    trainer_ = std::make_unique<Trainer>(model_, *prepared_, threads_);
    trainer_->on_epoch = on_epoch;
}

void Calibration::score_candidate() {
    // Entries the model does not see keep 0, the same for every rule, so the sums start at what
    // imputing 0 everywhere scores (the denominators) and each rule adds its difference.
    constexpr std::size_t kR = sizeof kRules / sizeof kRules[0];
    double count_sse[kR], log_sse[kR], held_count_sse[kR], held_log_sse[kR];
    std::fill(held_count_sse, held_count_sse + kR, held_norm2_);
    std::fill(held_log_sse, held_log_sse + kR, held_log_norm2_);
    std::fill(count_sse, count_sse + kR, 0.0);  // the observed non-zeros' part
    std::fill(log_sse, log_sse + kR, 0.0);
    std::vector<Eigen::Index> row_of(static_cast<std::size_t>(data_.n_genes()), -1);  // data gene -> model row
    for (std::size_t i = 0; i < model_.prep.kept_genes.size(); ++i)
        row_of[static_cast<std::size_t>(model_.prep.kept_genes[i])] = static_cast<Eigen::Index>(i);
    Network<float>& net = *model_.net;
    for_each_batch(model_, *prepared_, [&](Eigen::Index start, Eigen::Index b) {
        const auto mu = net.mu(b), pi = net.pi(b), theta = net.theta(b);
        // Each rule's squared errors, counts and log1p, for an entry of value x observed as
        // `observed` (model row i, batch column k); a held-out entry adds its difference from 0.
        const auto add = [&](double x, float observed, Eigen::Index i, Eigen::Index k, bool held_out, double* cs, double* ls) {
            const double lx = std::log1p(x);
            for (std::size_t r = 0; r < kR; ++r) {
                const double v = impute_value(observed, mu(i, k), pi(i, k), theta(i, k), kRules[r]);
                const double lv = std::log1p(std::max(v, 0.0));
                cs[r] += (x - v) * (x - v) - (held_out ? x * x : 0.0);
                ls[r] += (lx - lv) * (lx - lv) - (held_out ? lx * lx : 0.0);
            }
        };
        for (Eigen::Index k = 0; k < b; ++k) {
            const auto cell = static_cast<std::size_t>(prepared_->kept_cells[static_cast<std::size_t>(start + k)]);
            // The observed non-zeros: 0 for the rules that keep them, what `mean` moves them by.
            const auto j = static_cast<std::size_t>(start + k);
            const auto first = static_cast<std::size_t>(prepared_->start[j]), end = static_cast<std::size_t>(prepared_->start[j + 1]);
            for (std::size_t e = first; e < end; ++e)
                add(prepared_->count[e], prepared_->count[e], prepared_->gene[e], k, false, count_sse, log_sse);
            for (std::size_t h = held_first_[cell]; h < held_first_[cell + 1]; ++h) {
                const Eigen::Index i = row_of[static_cast<std::size_t>(held_[h].first)];
                if (i >= 0)
                    add(data_.counts(held_[h].first, static_cast<Eigen::Index>(cell)), 0.0f, i, k, true, held_count_sse, held_log_sse);
            }
        }
    });
    std::vector<CalibrationTrial> scored;
    for (std::size_t r = 0; r < kR; ++r) {
        CalibrationTrial t;
        t.candidate = names_[static_cast<std::size_t>(index_)];
        t.rule = kRules[r];
        const double hc = std::max(0.0, held_count_sse[r]), hl = std::max(0.0, held_log_sse[r]);
        t.held_out_score = std::sqrt(std::sqrt(hc / held_norm2_) * std::sqrt(hl / held_log_norm2_));
        t.count_error = std::sqrt((hc + count_sse[r]) / held_norm2_);
        t.log_error = std::sqrt((hl + log_sse[r]) / held_log_norm2_);
        t.score = std::sqrt(t.count_error * t.log_error);
        t.epochs = trainer_->epoch();
        t.seconds = trainer_->train_seconds();
        scored.push_back(t);
        result_.trials.push_back(t);
    }
    if (on_scored) on_scored(scored);
}

bool Calibration::step(double budget_seconds) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    if (!done_ && (!trainer_ || next_)) {
        if (next_) ++index_;
        next_ = false;
        start_candidate();
    }
    while (!done_) {
        const bool ended = trainer_->step(std::max(0.0, budget_seconds - elapsed()));
        if (ended && trainer_->stop_reason() == StopReason::cancelled) {
            cancelled_ = done_ = true;
        } else if (ended) {
            score_candidate();
            if (index_ + 1 < candidates()) {
                next_ = true;  // started by the next step, after the caller has reported this one
            } else {
                done_ = true;
                choose();
                const CalibrationTrial& c = result_.trials[result_.chosen];
                result_.settings = candidate_settings(base_, c.candidate, c.rule);
            }
            break;
        }
        if (elapsed() >= budget_seconds) break;
    }
    seconds_ += elapsed();
    return done_;
}

double calibration_training_score(const std::vector<CalibrationTrial>& trials, const std::string& candidate) {
    for (const auto& t : trials)
        if (t.candidate == candidate && t.rule == ImputeRule::mean && std::isfinite(t.held_out_score))
            return t.held_out_score;
    return std::numeric_limits<double>::infinity();
}

void Calibration::choose() {
    // A non-finite score (a candidate whose outputs overflowed) is never chosen over a finite one.
    const auto finite = [](double v) { return std::isfinite(v) ? v : std::numeric_limits<double>::infinity(); };
    // First the training: the one whose mu recovers the held-out counts best (the mean rule's
    // held-out score: mu itself, not a rule's use of it). Then its rule, by the whole score.
    std::string training = names_.front();
    for (const auto& n : names_)
        if (calibration_training_score(result_.trials, n) < calibration_training_score(result_.trials, training)) training = n;
    bool any = false;
    for (std::size_t k = 0; k < result_.trials.size(); ++k) {
        if (result_.trials[k].candidate != training) continue;
        if (!any || finite(result_.trials[k].score) < finite(result_.trials[result_.chosen].score)) result_.chosen = k;
        any = true;
    }
}

void Calibration::release() {
    trainer_.reset();
    prepared_.reset();
    model_ = Model();
    masked_ = CountMatrix();
    held_.clear();
    held_.shrink_to_fit();
    held_first_.clear();
    held_first_.shrink_to_fit();
}

void Calibration::cancel() {
    if (done_) return;
    if (trainer_ && !next_ && !trainer_->done()) {
        trainer_->cancel();  // ends at its next batch, then step() says cancelled
        return;
    }
    cancelled_ = done_ = true;
}

}  // namespace zimpute
