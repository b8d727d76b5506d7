#include "trainer.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "special.hpp"
#include "split.hpp"
#include "fast_math.hpp"
#include "thread_pool.hpp"

namespace zimpute {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string fmt(double d) {
    std::ostringstream os;
    os << d;
    return os.str();
}

}  // namespace

std::string to_string(StopReason r) {
    switch (r) {
        case StopReason::running: return "running";
        case StopReason::completed: return "completed";
        case StopReason::early_stopping: return "early_stopping";
        case StopReason::cancelled: return "cancelled";
    }
    return "unknown";
}

Model create_model(const CountMatrix& data, const Settings& settings) {
    Model m;
    m.settings = settings;
    m.prep = fit_preprocess(data.counts, settings.preprocess);
    m.genes = data.genes;
    // One extra column so a lone last cell joins the previous batch (BN needs two cells); never
    // more columns than cells, so a huge batch size does not allocate for cells that do not exist.
    m.net = std::make_unique<Network<float>>(
        static_cast<Eigen::Index>(m.prep.kept_genes.size()), network_options(settings), settings.seed,
        std::min<Eigen::Index>(settings.train.batch_size + 1, std::max<Eigen::Index>(data.counts.cols(), 2)));
    return m;
}

void run_on(Model& model, const Threads& threads) { model.net->set_pool(threads.pool, threads.count); }

Trainer::Trainer(Model& model, const Preprocessed& data, const Threads& threads)
    : model_(model),
      net_(*model.net),
      threads_(threads),
      data_(data),
      options_(model.settings.train),
      loss_(model.settings.loss),
      rng_(model.settings.seed ^ 0x9e3779b97f4a7c15ULL),
      lr_(model.settings.train.optimizer.learning_rate),
      early_(options_.early_stopping_patience, options_.min_delta),
      plateau_(options_.reduce_lr_patience, options_.reduce_lr_factor),
      guard_(options_.max_recoveries) {
    if (data.n_genes() != net_.n_genes())
        throw std::invalid_argument("training data has " + std::to_string(data.n_genes()) +
                                    " genes, the network expects " + std::to_string(net_.n_genes()));
    const Eigen::Index n = data.n_cells();
    if (n < 2) throw std::invalid_argument("training needs at least two cells with counts");
    run_on(model, threads);
    // The batch input points into these gene lists (sparse_input.hpp), so they are checked once
    // here instead of per batch. Preprocessing builds them so; a failure is a bug, not bad input.
    for (Eigen::Index j = 0; j < n; ++j) {
        const auto s = data.start[static_cast<std::size_t>(j)];
        if (!genes_ascending_below(data.gene.data() + s, data.start[static_cast<std::size_t>(j) + 1] - s, data.n_genes()))
            throw std::logic_error("preprocessed cell " + std::to_string(j) + "'s genes are not ascending and in range");
    }
    // lgamma(y + 1) is a constant of the loss per count: looked up for small integers (almost all
    // counts), computed otherwise (gather), and never stored per entry.
    lgamma_table_.resize(kLgammaTable);
    for (std::size_t k = 0; k < kLgammaTable; ++k) lgamma_table_[k] = static_cast<float>(std::lgamma(static_cast<double>(k) + 1.0));

    // Seeded hold-out of validation cells (the course split's draw); at least two cells stay for
    // training, in the drawn order.
    const auto n_val = std::clamp<Eigen::Index>(
        static_cast<Eigen::Index>(std::floor(options_.validation_fraction * static_cast<double>(n) + 0.5)), 0, n - 2);
    const std::vector<Eigen::Index> drawn = shuffled_cells(n, model.settings.seed);
    val_idx_.assign(drawn.begin(), drawn.begin() + n_val);
    train_idx_.assign(drawn.begin() + n_val, drawn.end());

    xb_.resize(net_.n_genes(), net_.max_batch());
    xb_.set_zero(data.input_zero);
    counts_.resize(net_.n_genes(), net_.max_batch());
    sb_.resize(net_.max_batch());
    opt_state_.reset(net_.params.size());
    take(good_snap_);
    take(initial_snap_);
    start_epoch();
}

void Trainer::take(Snapshot& s) const {
    s.params = net_.params;
    s.mean = net_.running_mean;
    s.var = net_.running_var;
}

void Trainer::restore(const Snapshot& s) {
    net_.params = s.params;
    net_.running_mean = s.mean;
    net_.running_var = s.var;
}

void Trainer::start_epoch() {
    order_ = train_idx_;
    rng_.shuffle(order_);
    batch_start_ = 0;
    epoch_loss_ = 0;
    epoch_batches_ = 0;
    epoch_seconds_ = 0;
}

double Trainer::epoch_fraction() const {
    return order_.empty() ? 0.0 : static_cast<double>(batch_start_) / static_cast<double>(order_.size());
}

void Trainer::set_input(Eigen::Index k, std::size_t c) {
    const auto s = static_cast<std::size_t>(data_.start[c]);
    const Eigen::Index nnz = static_cast<Eigen::Index>(data_.start[c + 1]) - static_cast<Eigen::Index>(s);
    data_.input_deviations(static_cast<Eigen::Index>(c), xb_.set_cell(k, data_.gene.data() + s, nnz));
}

void Trainer::gather(const std::vector<Eigen::Index>& cells, std::size_t from, Eigen::Index b) {
    // Cells are independent columns: split across the model's threads (done on one thread, the
    // others waited; with 2 threads in wasm that was a few % of an epoch).
    // lgamma(y + 1) is looked up for small whole counts (almost all) and computed otherwise:
    // lgamma_fast, not std::lgamma, because this runs on several threads and glibc's lgamma
    // writes the global signgam.
    auto lgamma1 = [&](float v) {
        return v < static_cast<float>(kLgammaTable) && v == std::floor(v) ? lgamma_table_[static_cast<std::size_t>(v)]
                                                                        : static_cast<float>(lgamma_fast(static_cast<double>(v) + 1.0));
    };
    parallel_ranges(threads_.pool, threads_.count, b, [&](Eigen::Index k0, Eigen::Index k1) {
        for (Eigen::Index k = k0; k < k1; ++k) {
            const auto c = static_cast<std::size_t>(cells[from + static_cast<std::size_t>(k)]);
            set_input(k, c);
            const auto s = static_cast<std::size_t>(data_.start[c]);
            counts_.set_cell(k, data_.gene.data() + s, data_.count.data() + s,
                             static_cast<Eigen::Index>(data_.start[c + 1]) - static_cast<Eigen::Index>(s), lgamma1);
            sb_(k) = data_.size_factors(static_cast<Eigen::Index>(c));
        }
    }, 1);
}

bool Trainer::run_batch() {
    const std::size_t n = order_.size();
    auto b = static_cast<Eigen::Index>(std::min<std::size_t>(static_cast<std::size_t>(options_.batch_size), n - batch_start_));
    if (n - batch_start_ - static_cast<std::size_t>(b) == 1) ++b;  // never leave a batch of one cell
    gather(order_, batch_start_, b);
    net_.forward(xb_, sb_.data(), b, true, false);  // the loss activates the heads
    const double loss = net_.loss_and_head_gradient(counts_, b, loss_);
    if (!std::isfinite(loss)) return false;
    net_.backward(b);
    // A non-finite gradient leaves the weights untouched and is reported as divergence.
    if (!std::isfinite(optimizer_step<float>(options_.optimizer, opt_state_, net_.params, net_.grads, lr_, threads_.pool, threads_.count)))
        return false;
    epoch_loss_ += loss * static_cast<double>(b);
    epoch_batches_ += b;
    batch_start_ += static_cast<std::size_t>(b);
    return true;
}

void Trainer::add_event(const std::string& e) { pending_event_ += (pending_event_.empty() ? "" : "; ") + e; }

void Trainer::recover(const std::string& where) {
    const auto restore_to = guard_.diverged(
        epoch_, "lower the learning rate (now " + fmt(lr_) + "), turn on batchnorm, or use the guarded loss");
    const bool from_good = restore_to == DivergenceGuard::Restore::last_good_epoch;
    restore(from_good ? good_snap_ : initial_snap_);
    lr_ *= 0.5;
    opt_state_.reset(net_.params.size());
    add_event("diverged " + where + " (a NaN or infinite loss or gradient) and recovered: restored " +
              (from_good ? "the weights of epoch " + std::to_string(epoch_) : std::string("the initial weights")) +
              " and halved the learning rate to " + fmt(lr_));
    start_epoch();
}

double Trainer::validation_loss() {
    double total = 0;
    Eigen::Index used_total = 0;
    for (std::size_t start = 0; start < val_idx_.size(); start += static_cast<std::size_t>(net_.max_batch())) {
        const auto b = static_cast<Eigen::Index>(
            std::min<std::size_t>(static_cast<std::size_t>(net_.max_batch()), val_idx_.size() - start));
        gather(val_idx_, start, b);
        net_.forward(xb_, sb_.data(), b, false, false);
        Eigen::Index used = 0;
        const double l = net_.loss_and_head_gradient(counts_, b, loss_, &used);
        if (used > 0) {
            total += l * static_cast<double>(used);
            used_total += used;
        }
    }
    return used_total ? total / static_cast<double>(used_total) : std::nan("");
}

bool Trainer::weights_finite() {
    // A NaN weight does not always reach the loss (a vectorized ReLU can turn NaN into 0), so the
    // weights themselves are checked before they can become the "last good" snapshot.
    if (all_finite(net_.params.data(), net_.params.size())) return true;  // vectorized, unlike allFinite() in wasm
    recover("in epoch " + std::to_string(epoch_ + 1) + " (non-finite weights)");
    return false;
}

double Trainer::validate(double train_loss) {
    // Exact BN statistics of the training cells, gathered chunk by chunk into the batch buffer.
    net_.recalibrate_batchnorm_sparse(static_cast<Eigen::Index>(train_idx_.size()),
                                      [&](Eigen::Index start, Eigen::Index b) -> const SparseInput<float>& {
        parallel_ranges(threads_.pool, threads_.count, b, [&](Eigen::Index k0, Eigen::Index k1) {
            for (Eigen::Index k = k0; k < k1; ++k) set_input(k, static_cast<std::size_t>(train_idx_[static_cast<std::size_t>(start + k)]));
        }, 1);
        return xb_;
    });
    return val_idx_.empty() ? train_loss : validation_loss();
}

void Trainer::finish_epoch() {
    const auto t = std::chrono::steady_clock::now();
    if (!weights_finite()) return;
    EpochReport r;
    r.train_loss = epoch_loss_ / static_cast<double>(epoch_batches_);
    const double monitored = validate(r.train_loss);
    if (!std::isfinite(monitored)) {
        recover("in validation after epoch " + std::to_string(epoch_ + 1));
        return;
    }
    r.val_loss = val_idx_.empty() ? std::nan("") : monitored;
    end_epoch(r, monitored, t);
}

// A finite epoch: the policies' decisions, the snapshots, the report.
void Trainer::end_epoch(EpochReport& r, double monitored, std::chrono::steady_clock::time_point started) {
    r.epoch = ++epoch_;
    r.learning_rate = lr_;
    r.improved = early_.improved(monitored);
    if (r.improved) take(best_snap_);
    const double lr = plateau_.after_epoch(r.improved, lr_);
    if (lr != lr_) add_event("learning rate reduced to " + fmt(lr));
    lr_ = lr;
    take(good_snap_);
    guard_.epoch_ended();
    const bool early = early_.should_stop();
    if (early)
        add_event("early stopping: no improvement in " + std::to_string(early_.bad_epochs()) + " epochs" +
                  (options_.restore_best ? ", best weights restored" : ""));
    r.event = std::move(pending_event_);
    pending_event_.clear();
    const double dt = seconds_since(started);  // the epoch's end counts as part of it
    epoch_seconds_ += dt;
    train_seconds_ += dt;
    r.seconds = epoch_seconds_;
    history_.push_back(r);
    if (on_epoch) on_epoch(r);
    if (early) finish(StopReason::early_stopping);
    else if (epoch_ >= options_.epochs) finish(StopReason::completed);
    else start_epoch();
}

void Trainer::finish(StopReason r) {
    // A cancel goes back to the best epoch too: the weights of the moment are mid-epoch.
    if ((options_.restore_best || r == StopReason::cancelled) && early_.has_best()) restore(best_snap_);
    reason_ = r;
}

bool Trainer::step(double budget_seconds) {
    const auto started = std::chrono::steady_clock::now();
    while (!done()) {
        if (cancel_requested_) {
            finish(StopReason::cancelled);
            break;
        }
        const auto t = std::chrono::steady_clock::now();
        const bool ok = run_batch();
        const double dt = seconds_since(t);
        epoch_seconds_ += dt;
        train_seconds_ += dt;
        if (!ok) recover("in epoch " + std::to_string(epoch_ + 1) + " at cell " + std::to_string(batch_start_) +
                         " of " + std::to_string(order_.size()));
        else if (batch_start_ >= order_.size()) finish_epoch();
        if (seconds_since(started) >= budget_seconds) break;
    }
    return done();
}

void Trainer::run() {
    while (!step(1.0)) {
    }
}

}  // namespace zimpute
