// The end-of-epoch policies on made-up loss sequences: when early stopping stops and which epoch
// is the best, when the plateau cut cuts, which weights the divergence guard restores.
#include <doctest/doctest.h>

#include <vector>

#include "training_policies.hpp"

using namespace zimpute;

TEST_CASE("early stopping: stops after `patience` epochs without beating the best by min_delta") {
    EarlyStopping e(3, 0.01);
    const std::vector<double> losses = {5.0, 4.0, 3.995, 3.5, 3.6, 3.495, 3.499, 3.7};
    const std::vector<bool> improved = {true, true, false, true, false, false, false, false};
    std::vector<bool> seen;
    int stopped_at = -1;
    for (std::size_t k = 0; k < losses.size() && stopped_at < 0; ++k) {
        seen.push_back(e.improved(losses[k]));
        if (e.should_stop()) stopped_at = static_cast<int>(k);
    }
    // 3.995 is not 0.01 below 4.0; 3.495 is 0.005 below 3.5: neither counts.
    CHECK(seen == std::vector<bool>(improved.begin(), improved.begin() + static_cast<long>(seen.size())));
    CHECK(stopped_at == 6);  // epochs 5, 6, 7 (1-based) without a new best
    CHECK(e.best() == 3.5);
    CHECK(e.bad_epochs() == 3);
}

TEST_CASE("early stopping: the first epoch is always the best so far; a new best resets the count") {
    EarlyStopping e(2, 0.0);
    CHECK_FALSE(e.has_best());
    CHECK(e.improved(1e9));
    CHECK(e.has_best());
    CHECK_FALSE(e.improved(1e9));  // equal is not better
    CHECK_FALSE(e.should_stop());
    CHECK(e.improved(1.0));
    CHECK(e.bad_epochs() == 0);
    CHECK_FALSE(e.improved(2.0));
    CHECK_FALSE(e.improved(2.0));
    CHECK(e.should_stop());
}

TEST_CASE("plateau cut: the learning rate falls by the factor after `patience` epochs without improvement, then waits again") {
    PlateauCut p(2, 0.1);
    double lr = 1.0;
    std::vector<double> after;
    for (bool improved : {true, false, false, false, false, true, false, false}) {
        lr = p.after_epoch(improved, lr);
        after.push_back(lr);
    }
    const std::vector<double> expected = {1.0, 1.0, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1};
    REQUIRE(after.size() == expected.size());
    for (std::size_t k = 0; k < after.size(); ++k) CHECK(after[k] == doctest::Approx(expected[k]));
}

TEST_CASE("divergence guard: last good epoch first, the initial weights if it diverges again, then give up") {
    DivergenceGuard g(3);
    using R = DivergenceGuard::Restore;
    CHECK(g.diverged(0, "advice") == R::initial);  // no epoch has ended yet
    CHECK(g.diverged(0, "advice") == R::initial);
    g.epoch_ended();
    CHECK(g.diverged(1, "advice") == R::last_good_epoch);
    CHECK(g.recoveries() == 3);
    CHECK_THROWS_WITH_AS(g.diverged(1, "lower the learning rate"),
                         "training diverged 4 times (the loss became NaN or infinite); lower the learning rate",
                         std::runtime_error);
}

TEST_CASE("divergence guard: a second divergence before an epoch ends goes back to the initial weights") {
    DivergenceGuard g(10);
    using R = DivergenceGuard::Restore;
    g.epoch_ended();
    CHECK(g.diverged(3, "") == R::last_good_epoch);
    CHECK(g.diverged(3, "") == R::initial);  // the last good weights diverged again
    g.epoch_ended();
    CHECK(g.diverged(4, "") == R::last_good_epoch);
}
