#include "experiment.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "split.hpp"

namespace zimpute {

std::vector<Variant> course_variants(const Settings& base) {
    std::vector<Variant> v;
    const char* names[] = {"Model I (no BatchNorm, original loss)", "Model II (no BatchNorm, guarded loss)",
                           "Model III (BatchNorm, original loss)", "Model IV (BatchNorm, guarded loss)"};
    for (int k = 0; k < 4; ++k) {
        // The seed's models: its preprocessing and Adam with gradient-norm clipping (the course
        // preset), BatchNorm and loss varied.
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
    v.push_back({"zimpute defaults", base});
    return v;
}

Experiment::Experiment(const CountMatrix& data, const Eigen::MatrixXf& truth, std::vector<Variant> variants,
                       double fraction, std::uint64_t seed)
    : variants_(std::move(variants)) {
    if (truth.rows() != data.n_genes() || truth.cols() != data.n_cells())
        throw std::invalid_argument("the truth must have the data's shape");
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

PlotData Experiment::plot_data(std::size_t max_points) {
    PlotData p;
    Session* s = best_session();
    if (!s) return p;
    const Eigen::MatrixXf& obs = s->data().counts;
    const Eigen::MatrixXf& imp = s->imputed();
    const Eigen::MatrixXf pi = s->predicted(Output::pi);
    const Eigen::MatrixXf& tru = validation_truth_;
    std::size_t n_drop = 0, n_zero = 0;
    for (Eigen::Index k = 0; k < obs.size(); ++k)
        if (obs.data()[k] == 0) (tru.data()[k] > 0 ? n_drop : n_zero)++;
    const std::size_t step_drop = std::max<std::size_t>(1, n_drop / std::max<std::size_t>(max_points, 1));
    const std::size_t step_zero = std::max<std::size_t>(1, n_zero / std::max<std::size_t>(max_points, 1));
    std::size_t i_drop = 0, i_zero = 0;
    for (Eigen::Index k = 0; k < obs.size(); ++k) {
        if (obs.data()[k] != 0) continue;
        if (tru.data()[k] > 0) {
            if (i_drop++ % step_drop) continue;
            p.dropout_truth.push_back(std::log1p(tru.data()[k]));
            p.dropout_imputed.push_back(std::log1p(std::max(0.0f, imp.data()[k])));
            p.pi_dropout.push_back(pi.data()[k]);
        } else if (i_zero++ % step_zero == 0) {
            p.pi_true_zero.push_back(pi.data()[k]);
        }
    }
    // Heatmap: the 30 genes with the most dropouts, over the first 40 validation cells.
    std::vector<std::pair<int, Eigen::Index>> drops;
    for (Eigen::Index g = 0; g < obs.rows(); ++g)
        drops.push_back({static_cast<int>(((obs.row(g).array() == 0) && (tru.row(g).array() > 0)).count()), g});
    std::sort(drops.begin(), drops.end(), [](auto& a, auto& b) { return a.first > b.first; });
    p.heat_genes = static_cast<int>(std::min<std::size_t>(30, drops.size()));
    p.heat_cells = static_cast<int>(std::min<Eigen::Index>(40, obs.cols()));
    for (int c = 0; c < p.heat_cells; ++c)
        for (int g = 0; g < p.heat_genes; ++g) {
            const Eigen::Index r = drops[static_cast<std::size_t>(g)].second;
            p.heat_observed.push_back(std::log1p(obs(r, c)));
            p.heat_imputed.push_back(std::log1p(std::max(0.0f, imp(r, c))));
            p.heat_truth.push_back(std::log1p(tru(r, c)));
        }
    return p;
}

namespace {

std::string cell(double v, int precision) {
    if (!std::isfinite(v)) return "-";
    std::ostringstream os;
    os.precision(precision);
    os << std::fixed << v;
    return os.str();
}

}  // namespace

std::string Experiment::table_markdown() const {
    std::ostringstream os;
    os << "| model | zero count | true dropouts | predicted dropouts | recall | precision | predict distance | "
          "origin distance | predict / origin | epochs |\n|---|---|---|---|---|---|---|---|---|---|\n";
    const int b = best();
    for (std::size_t k = 0; k < rows_.size(); ++k) {
        const ExperimentRow& r = rows_[k];
        const Metrics& m = r.metrics;
        const std::string name = static_cast<int>(k) == b ? "**" + r.name + " (best)**" : r.name;
        os << "| " << name << " | " << m.zero_num << " | " << m.true_dropout_num << " | " << m.predict_dropout_num
           << " | " << cell(m.recall, 4) << " | " << cell(m.precision, 4) << " | " << cell(m.predict_distance, 1)
           << " | " << cell(m.origin_distance, 1) << " | " << cell(m.distance_ratio, 4) << " | " << r.epochs << " |\n";
    }
    return os.str();
}

std::string Experiment::table_csv() const {
    std::ostringstream os;
    os << "model,zero_num,true_dropout_num,predict_dropout_num,recall,precision,predict_distance,origin_distance,"
          "distance_ratio,epochs,best\n";
    const int b = best();
    for (std::size_t k = 0; k < rows_.size(); ++k) {
        const ExperimentRow& r = rows_[k];
        const Metrics& m = r.metrics;
        os << '"' << r.name << "\"," << m.zero_num << ',' << m.true_dropout_num << ',' << m.predict_dropout_num << ','
           << cell(m.recall, 6) << ',' << cell(m.precision, 6) << ',' << cell(m.predict_distance, 3) << ','
           << cell(m.origin_distance, 3) << ',' << cell(m.distance_ratio, 6) << ',' << r.epochs << ','
           << (static_cast<int>(k) == b ? "yes" : "no") << '\n';
    }
    return os.str();
}

}  // namespace zimpute
