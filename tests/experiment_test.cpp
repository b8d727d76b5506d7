#include <doctest/doctest.h>

#include <cmath>

#include "experiment.hpp"
#include "simulate.hpp"

using namespace zimpute;

namespace {

Simulation sim() {
    SimulateOptions o;
    o.genes = 120;
    o.cells = 100;
    o.seed = 4;
    return simulate(o);
}

}  // namespace

TEST_CASE("the course experiment: 7:3 split, the course report's Models I-IV, DCA and defaults, scored on the validation part") {
    const Simulation s = sim();
    Settings base;
    base.train.epochs = 4;
    const auto variants = course_variants(base);
    REQUIRE(variants.size() == 6);
    CHECK_FALSE(variants[0].settings.network.batchnorm);
    CHECK(variants[0].settings.loss.kind == LossKind::zinb_original);
    CHECK(variants[3].settings.network.batchnorm);
    CHECK(variants[3].settings.loss.kind == LossKind::zinb_guarded);
    CHECK(variants[4].settings.train.optimizer.kind == OptimizerKind::rmsprop);

    Experiment e(s.observed, s.truth.counts, variants, 0.7, 42);
    CHECK(e.test_cells() == 70);
    CHECK(e.validation_cells() == 30);
    // A slice without a time budget still makes progress, and returns long before the end: the
    // experiment yields between slices (how long a slice takes is bench/'s business).
    CHECK_FALSE(e.step(0.0));
    CHECK(e.rows().size() < 6);
    int slices = 1;
    while (!e.step(0.0)) ++slices;
    CHECK(slices >= 6);  // at least one per variant
    REQUIRE(e.rows().size() == 6);
    for (const auto& r : e.rows()) {
        CAPTURE(r.name);
        CHECK(r.epochs == 4);
        CHECK(r.history.size() == 4);
        // every variant is scored on the same validation cells
        CHECK(r.metrics.zero_num == e.rows()[0].metrics.zero_num);
        CHECK(r.metrics.zero_num < (s.observed.counts.array() == 0).count() / 2);
        CHECK(r.metrics.origin_distance == doctest::Approx(e.rows()[0].metrics.origin_distance));
        CHECK(std::isfinite(r.metrics.predict_distance));
    }
    const int best = e.best();
    REQUIRE(best >= 0);
    for (const auto& r : e.rows()) CHECK(e.rows()[static_cast<std::size_t>(best)].metrics.predict_distance <= r.metrics.predict_distance);
    REQUIRE(e.best_session() != nullptr);
    CHECK(e.best_session()->imputed().cols() == 30);
    CHECK(e.best_session()->truth().cols() == 30);
}

TEST_CASE("cancel stops the experiment with the rows finished so far") {
    const Simulation s = sim();
    Settings base;
    base.train.epochs = 50;
    Experiment e(s.observed, s.truth.counts, course_variants(base), 0.7, 1);
    e.step(0.0);  // one batch
    e.cancel();
    CHECK(e.step(1.0));
    CHECK(e.done());
    CHECK(e.rows().size() < 6);
}

TEST_CASE("a count the model cannot take is refused before any variant trains, wherever the split puts it") {
    Simulation s = sim();
    s.observed.counts(3, 5) = 2e9f;
    Settings base;
    base.train.epochs = 1;
    CHECK_THROWS_AS(Experiment(s.observed, s.truth.counts, course_variants(base), 0.7, 1), InputError);
}
