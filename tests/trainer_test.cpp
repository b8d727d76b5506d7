// End-to-end training on simulated data with known truth, determinism, cancel and the
// divergence guard.
#include <doctest/doctest.h>

#include <cmath>

#include "impute.hpp"
#include "metrics.hpp"
#include "simulate.hpp"
#include "trainer.hpp"

using namespace zimpute;

namespace {

Simulation sim_of(int genes, int cells) {
    SimulateOptions o;
    o.genes = genes;
    o.cells = cells;
    o.seed = 7;
    return simulate(o);
}

// Small and fast, for the mechanics (determinism, cancel, divergence guard).
Simulation small_sim() { return sim_of(200, 400); }

// The course's shape (1000 genes x 600 cells): quality is judged here; below ~300 genes the
// distance on a few huge true counts swings with the seed.
Simulation course_sized_sim() { return sim_of(1000, 600); }

struct Run {
    Model model;
    std::unique_ptr<Preprocessed> data;
    std::unique_ptr<Trainer> trainer;
};

Run start(const CountMatrix& m, Settings s) {
    Run r{create_model(m, s), nullptr, nullptr};
    r.data = std::make_unique<Preprocessed>(apply_preprocess(r.model.prep, m.counts));
    r.trainer = std::make_unique<Trainer>(r.model, *r.data, Threads::of_shared_pool(s.train.threads));
    return r;
}

}  // namespace

TEST_CASE("end to end: the loss falls and the default rule beats the observed matrix by a wide margin") {
    const Simulation sim = course_sized_sim();
    Settings s;
    Run r = start(sim.observed, s);
    r.trainer->run();
    const auto& h = r.trainer->history();
    REQUIRE(h.size() >= 5);
    CHECK(h.back().train_loss < 0.8 * h.front().train_loss);
    CHECK(r.trainer->stop_reason() != StopReason::running);
    const Prediction p = predict(r.model, *r.data, sim.observed.n_genes(), sim.observed.n_cells());
    const Eigen::MatrixXf imputed = impute(sim.observed.counts, p, s.rule);
    const Metrics m = compute_metrics(sim.observed.counts, imputed, sim.truth.counts);
    MESSAGE("epochs " << h.size() << ", distance ratio " << m.distance_ratio << ", zero ratio " << m.zero_distance_ratio);
    CHECK(m.predict_distance < m.origin_distance);
    CHECK(m.zero_distance_ratio < 0.5);
    CHECK(m.recall > 0.9);
}

TEST_CASE("the same seed gives the same weights; another seed does not") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 3;
    Run a = start(sim.observed, s), b = start(sim.observed, s);
    a.trainer->run();
    b.trainer->run();
    CHECK(a.model.net->params == b.model.net->params);
    s.seed = 43;
    Run c = start(sim.observed, s);
    c.trainer->run();
    CHECK(a.model.net->params != c.model.net->params);
}

TEST_CASE("two threads train the same model as one, to float rounding (batches gathered in parallel)") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 3;
    s.train.threads = 1;
    Run one = start(sim.observed, s);
    s.train.threads = 2;
    Run two = start(sim.observed, s);
    REQUIRE(two.trainer->threads() == std::min(2, max_threads()));
    one.trainer->run();
    two.trainer->run();
    // Sums split across threads round differently, and Adam turns the sign of near-zero
    // gradients into whole steps, so the weights drift apart a little (a few % after 3 epochs);
    // a batch whose inputs and counts were gathered into the wrong columns would be far off.
    const auto &h1 = one.trainer->history(), &h2 = two.trainer->history();
    REQUIRE(h1.size() == h2.size());
    for (std::size_t e = 0; e < h1.size(); ++e) {
        CHECK(h2[e].train_loss == doctest::Approx(h1[e].train_loss).epsilon(1e-3));
        CHECK(h2[e].val_loss == doctest::Approx(h1[e].val_loss).epsilon(2e-2));
    }
}

TEST_CASE("stepping in slices reports progress and cancel stops before the next batch") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 50;
    Run r = start(sim.observed, s);
    int reports = 0;
    r.trainer->on_epoch = [&](const EpochReport& e) {
        ++reports;
        CHECK(e.epoch == reports);
        CHECK(std::isfinite(e.val_loss));
    };
    CHECK_FALSE(r.trainer->step(0.0));  // one batch only
    CHECK(r.trainer->epoch_fraction() > 0);
    while (reports < 2) r.trainer->step(0.01);
    r.trainer->cancel();
    CHECK(r.trainer->step(10.0));
    CHECK(r.trainer->stop_reason() == StopReason::cancelled);
    CHECK(r.trainer->epoch() == reports);
}

TEST_CASE("early stopping with restore-best ends training with the best epoch's weights, not the last epoch's") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 200;
    s.train.early_stopping_patience = 3;
    s.train.optimizer.learning_rate = 0.03;  // noisy validation loss: stops early
    s.train.restore_best = true;
    Run r = start(sim.observed, s);
    Vec<float> best, last;
    int best_epoch = 0;
    r.trainer->on_epoch = [&](const EpochReport& e) {
        last = r.model.net->params;
        if (e.improved) {
            best = r.model.net->params;
            best_epoch = e.epoch;
        }
    };
    r.trainer->run();
    REQUIRE(r.trainer->stop_reason() == StopReason::early_stopping);
    CHECK(r.trainer->epoch() == best_epoch + 3);
    CHECK(r.trainer->history().back().event.find("early stopping: no improvement in 3 epochs") != std::string::npos);
    CHECK(last != best);
    CHECK(r.model.net->params == best);
    CHECK(r.trainer->history().back().event.find("best weights restored") != std::string::npos);
}

TEST_CASE("early stopping without restore-best (the default, DCA's) ends with the last epoch's weights") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 200;
    s.train.early_stopping_patience = 3;
    s.train.optimizer.learning_rate = 0.03;
    CHECK(!s.train.restore_best);
    Run r = start(sim.observed, s);
    Vec<float> best, last;
    r.trainer->on_epoch = [&](const EpochReport& e) {
        last = r.model.net->params;
        if (e.improved) best = r.model.net->params;
    };
    r.trainer->run();
    REQUIRE(r.trainer->stop_reason() == StopReason::early_stopping);
    CHECK(last != best);
    CHECK(r.model.net->params == last);
    CHECK(r.trainer->history().back().event == "early stopping: no improvement in 3 epochs");
}

TEST_CASE("the learning rate is cut 10x after lr-patience epochs without improvement, and said so") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 200;
    s.train.reduce_lr_patience = 1;
    s.train.early_stopping_patience = 4;
    Run r = start(sim.observed, s);
    r.trainer->run();
    const auto& h = r.trainer->history();
    int cuts = 0;
    for (std::size_t k = 1; k < h.size(); ++k) {
        CAPTURE(k);
        const bool cut = !h[k - 1].improved;  // patience 1: every epoch without improvement cuts
        CHECK(h[k].learning_rate == doctest::Approx(h[k - 1].learning_rate * (cut ? 0.1 : 1.0)));
        CHECK((h[k - 1].event.find("learning rate reduced to") != std::string::npos) == cut);
        cuts += cut;
    }
    CHECK(cuts >= 1);
}

TEST_CASE("divergence guard: a non-finite loss restores the last good weights and halves the learning rate") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.epochs = 4;
    Run r = start(sim.observed, s);
    while (r.trainer->epoch() < 1) r.trainer->step(0.01);
    r.model.net->params(0) = std::nan("");  // poison the weights between two slices
    r.trainer->run();
    CHECK(r.trainer->recoveries() == 1);
    CHECK(r.model.net->params.allFinite());
    bool reported = false;
    for (const auto& e : r.trainer->history())
        if (e.event.find("diverged") != std::string::npos && e.event.find("halved the learning rate to 0.005") != std::string::npos)
            reported = true;
    CHECK(reported);
    CHECK(r.trainer->history().back().learning_rate == doctest::Approx(0.005));
}

TEST_CASE("divergence guard gives up with a clear message after max_recoveries") {
    const Simulation sim = small_sim();
    Settings s;
    s.train.max_recoveries = 0;
    Run r = start(sim.observed, s);
    r.model.net->params(0) = std::nan("");
    CHECK_THROWS_WITH_AS(r.trainer->run(), doctest::Contains("training diverged 1 times"), std::runtime_error);
}

TEST_CASE("the course report's Model I settings with unbounded heads at a high learning rate diverge, recover and say so") {
    // Model I: the course preset without BatchNorm, the original loss. With plain exp/softplus
    // heads (no DCA bounds) and lr 0.1, mu or theta overflows within the first batches.
    const Simulation sim = small_sim();
    Settings s = preset("course");
    s.network.batchnorm = false;
    s.loss.kind = LossKind::zinb_original;
    s.network.clip_heads = false;
    s.train.optimizer.learning_rate = 0.1;
    s.train.epochs = 10;
    Run r = start(sim.observed, s);
    r.trainer->run();
    CHECK(r.trainer->recoveries() >= 1);
    CHECK(r.trainer->learning_rate() < 0.1);
    bool said = false;
    for (const auto& e : r.trainer->history()) {
        CHECK(std::isfinite(e.train_loss));
        CHECK(std::isfinite(e.val_loss));
        said = said || e.event.find("diverged in epoch 1") != std::string::npos;
        CHECK((e.event.empty() || e.event.find("and recovered: restored") != std::string::npos ||
               e.event.find("learning rate reduced") != std::string::npos));
    }
    CHECK(said);
    CHECK(r.trainer->epoch() == 10);
    CHECK(r.model.net->params.allFinite());
    // The imputation is finite too.
    const Prediction p = predict(r.model, *r.data, sim.observed.n_genes(), sim.observed.n_cells());
    CHECK(impute(sim.observed.counts, p, ImputeRule::posterior).allFinite());
}

TEST_CASE("Model I settings with DCA's bounded heads (the default) end without NaN even at lr 0.5") {
    const Simulation sim = small_sim();
    Settings s;
    s.network.batchnorm = false;
    s.loss.kind = LossKind::zinb_original;
    s.train.optimizer.learning_rate = 0.5;
    s.train.epochs = 20;
    s.train.max_recoveries = 0;  // a single divergence throws
    Run r = start(sim.observed, s);
    CHECK_NOTHROW(r.trainer->run());
    CHECK(r.trainer->recoveries() == 0);
    for (const auto& e : r.trainer->history()) {
        CHECK(std::isfinite(e.train_loss));
        CHECK(std::isfinite(e.val_loss));
    }
    CHECK(r.model.net->params.allFinite());
}
