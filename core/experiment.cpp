#include "experiment.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "split.hpp"

namespace zimpute {

std::vector<Variant> course_variants(const Settings& base) {
    std::vector<Variant> v;
    const char* names[] = {"Model I (no BatchNorm, original loss)", "Model II (no BatchNorm, guarded loss)",
                           "Model III (BatchNorm, original loss)", "Model IV (BatchNorm, guarded loss)"};
    for (int k = 0; k < 4; ++k) {
        // The course report's models: its preprocessing and Adam with gradient-norm clipping
        // (the course preset), BatchNorm and loss varied.
        Settings s = preset("course");
        s.train.epochs = base.train.epochs;
        s.seed = base.seed;
        s.network.batchnorm = k >= 2;
        s.loss.kind = k % 2 == 0 ? LossKind::zinb_original : LossKind::zinb_guarded;
        v.push_back({names[k], s});
    }
    Settings dca = preset("dca");
    dca.train.epochs = base.train.epochs;
    dca.seed = base.seed;
    v.push_back({"DCA preset", dca});
    Settings defaults = base;
    defaults.calibrate = false;  // the experiment compares named settings, one model each
    defaults.ensemble = 1;
    v.push_back({"zimpute defaults", defaults});
    return v;
}

Experiment::Experiment(const CountMatrix& data, const Eigen::MatrixXf& truth, std::vector<Variant> variants,
                       double fraction, std::uint64_t seed)
    : variants_(std::move(variants)) {
    if (truth.rows() != data.n_genes() || truth.cols() != data.n_cells())
        throw std::invalid_argument("the truth must have the data's shape");
    check_modelable(data);  // before any variant: wherever the split puts a huge count
    auto parts = split_cells(data.n_cells(), fraction, seed);
    test_ = std::move(parts.first);
    validation_ = std::move(parts.second);
    test_data_ = subset_cells(data, test_);
    validation_data_ = subset_cells(data, validation_);
    validation_truth_.resize(truth.rows(), static_cast<Eigen::Index>(validation_.size()));
    for (std::size_t j = 0; j < validation_.size(); ++j)
        validation_truth_.col(static_cast<Eigen::Index>(j)) = truth.col(validation_[j]);
}

void Experiment::start_variant() {
    train_ = std::make_unique<Session>(variants_[current_].settings);
    train_->set_data(test_data_);
    train_->start_training();
}

void Experiment::finish_variant() {
    ExperimentRow row;
    row.name = variants_[current_].name;
    const Trainer& t = *train_->trainer();
    row.epochs = t.epoch();
    row.seconds = t.train_seconds();
    row.stop_reason = to_string(t.stop_reason());
    row.recoveries = t.recoveries();
    row.history = t.history();
    // Impute the validation part with the trained model, as the course does.
    auto eval = std::make_unique<Session>();
    eval->set_data(validation_data_);
    eval->set_truth(validation_truth_);
    eval->load_model(train_->model_bytes(), row.name);
    eval->impute();
    row.metrics = eval->metrics();
    rows_.push_back(std::move(row));
    // Only the best variant's imputation is kept (for plots); the others are dropped.
    evaluated_.resize(rows_.size());
    if (best() == static_cast<int>(rows_.size()) - 1) {
        for (auto& e : evaluated_) e.reset();
        evaluated_.back() = std::move(eval);
    }
    train_.reset();
    ++current_;
}

// Like Trainer::step, every call makes progress (at least one batch, or a variant's end) and
// the budget is checked after the work, so even a zero budget ends the experiment in time.
bool Experiment::step(double budget_seconds) {
    const auto start = std::chrono::steady_clock::now();
    const auto used = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    while (!done()) {
        if (!train_) start_variant();
        try {
            if (train_->trainer()->step(std::max(0.0, budget_seconds - used()))) finish_variant();
        } catch (const std::runtime_error& e) {  // diverged past the guard's limit: a failed row
            ExperimentRow row;
            row.name = variants_[current_].name + " (failed: " + e.what() + ")";
            row.metrics.predict_distance = std::nan("");
            rows_.push_back(std::move(row));
            evaluated_.resize(rows_.size());
            train_.reset();
            ++current_;
        }
        if (used() >= budget_seconds) break;
    }
    return done();
}

void Experiment::cancel() {
    cancelled_ = true;
    if (train_ && train_->trainer()) train_->trainer()->cancel();
}

int Experiment::best() const {
    int best = -1;
    for (std::size_t k = 0; k < rows_.size(); ++k) {
        const double d = rows_[k].metrics.predict_distance;
        if (std::isfinite(d) && (best < 0 || d < rows_[static_cast<std::size_t>(best)].metrics.predict_distance))
            best = static_cast<int>(k);
    }
    return best;
}

Session* Experiment::best_session() const {
    const int b = best();
    return b < 0 ? nullptr : evaluated_[static_cast<std::size_t>(b)].get();
}

}  // namespace zimpute
