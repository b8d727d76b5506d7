// Self-calibration (core/calibrate): the held-out share, every candidate x rule scored, the
// lowest chosen, each score equal to an independent computation (a plain run of the candidate's
// settings on the masked data, scored entry by entry), cancel, and the Session's use of it.
// Whether the score chooses well is measured on real data by bench/quality.py, not here.
#include <doctest/doctest.h>

#include <cmath>

#include "calibrate.hpp"
#include "count_writer.hpp"
#include "experiment.hpp"
#include "model_io.hpp"
#include "session.hpp"
#include "simulate.hpp"

using namespace zimpute;

namespace {

CountMatrix small_data() {
    SimulateOptions o;
    o.genes = 80;
    o.cells = 70;
    o.seed = 5;
    return simulate(o).observed;
}

Settings quick() {
    Settings s;
    s.train.epochs = 4;
    s.train.threads = 1;
    s.network.hidden = {16, 8, 16};
    s.seed = 9;
    return s;
}

void run_to_end(Calibration& c) {
    for (int k = 0; k < 10000 && !c.step(0.05); ++k) {
    }
    REQUIRE(c.done());
}

// ||x - imputed|| over the non-zeros of the original (held out or not) / ||x|| over the held-out
// ones (masked to 0, non-zero before), the same of log1p, the score their geometric mean.
struct Errors {
    double count, log, score;
};
Errors held_out_errors(const Eigen::MatrixXf& original, const Eigen::MatrixXf& masked, const Eigen::MatrixXf& imputed,
                       bool held_out_only = false) {
    double num = 0, den = 0, lnum = 0, lden = 0;
    for (Eigen::Index j = 0; j < original.cols(); ++j)
        for (Eigen::Index i = 0; i < original.rows(); ++i) {
            if (original(i, j) == 0 || (held_out_only && masked(i, j) != 0)) continue;
            const double x = original(i, j), v = imputed(i, j);
            num += (x - v) * (x - v);
            lnum += std::pow(std::log1p(x) - std::log1p(v), 2);
            if (masked(i, j) != 0) continue;  // observed: in the numerators only
            den += x * x;
            lden += std::pow(std::log1p(x), 2);
        }
    const double c = std::sqrt(num / den), l = std::sqrt(lnum / lden);
    return {c, l, std::sqrt(c * l)};
}

}  // namespace

TEST_CASE("calibration holds out about a tenth of the non-zero counts, the same ones for a seed") {
    const CountMatrix d = small_data();
    const long nonzero = static_cast<long>((d.counts.array() != 0).count());
    Calibration a(d, quick()), b(d, quick());
    const long held = a.result().held_out;
    CHECK(held > nonzero / 20);
    CHECK(held < nonzero / 5);
    CHECK(a.masked() == b.masked());
    // Exactly the held-out entries differ, and they were non-zero.
    CHECK((a.masked().array() != d.counts.array()).count() == held);
    CHECK(((a.masked().array() == 0) && (d.counts.array() != 0)).count() == held);
    Settings other = quick();
    other.seed = 10;
    CHECK(Calibration(d, other).masked() != a.masked());
}

TEST_CASE("calibration scores every candidate and rule, chooses the lowest, and keeps the user's other settings") {
    const CountMatrix d = small_data();
    Settings base = quick();
    base.train.batch_size = 16;
    Calibration c(d, base);
    int scored_calls = 0;
    c.on_scored = [&](const std::vector<CalibrationTrial>& t) {
        ++scored_calls;
        CHECK(t.size() == 3);
    };
    run_to_end(c);
    CHECK(!c.cancelled());
    CHECK(scored_calls == 2);
    const CalibrationResult& r = c.result();
    REQUIRE(r.trials.size() == 6);
    const CalibrationTrial& best = r.trials[r.chosen];
    const auto mean_of = [&](const std::string& candidate) {
        for (const auto& t : r.trials)
            if (t.candidate == candidate && t.rule == ImputeRule::mean) return t.held_out_score;
        return -1.0;
    };
    for (const auto& t : r.trials) {
        CHECK(std::isfinite(t.score));
        CHECK(t.epochs == 4);
        // The chosen training's mu recovers the held-out counts best; its rule scores lowest.
        CHECK(mean_of(best.candidate) <= mean_of(t.candidate));
        if (t.candidate == best.candidate) CHECK(t.score >= best.score);
    }
    const Settings expect = candidate_settings(base, best.candidate, best.rule);
    for (const auto& doc : option_docs()) CHECK(get_option(r.settings, doc.key) == get_option(expect, doc.key));
    CHECK(r.settings.train.batch_size == 16);
    CHECK(r.settings.network.hidden == base.network.hidden);
    CHECK(!r.settings.calibrate);
    CHECK(get_option(candidate_settings(base, "dca", ImputeRule::mean), "optimizer") == "rmsprop");
    CHECK(get_option(candidate_settings(base, "default", ImputeRule::mean), "learning-rate") == "0.01");
    CHECK(r.json().find("\"chosen\":{\"candidate\":\"" + best.candidate + "\"") != std::string::npos);
}

TEST_CASE("each calibration score is the held-out error of a plain run of that candidate on the masked data") {
    const CountMatrix d = small_data();
    Calibration c(d, quick());
    run_to_end(c);
    for (const auto& t : c.result().trials) {
        CAPTURE(t.candidate);
        CAPTURE(to_string(t.rule));
        Session s(candidate_settings(quick(), t.candidate, t.rule));
        CountMatrix masked = d;
        masked.counts = c.masked();
        s.set_data(masked);
        s.start_training().run();
        s.impute();
        const Errors e = held_out_errors(d.counts, c.masked(), s.imputed());
        const Errors held = held_out_errors(d.counts, c.masked(), s.imputed(), true);
        CHECK(t.held_out_score == doctest::Approx(held.score).epsilon(1e-4));
        CHECK(t.count_error == doctest::Approx(e.count).epsilon(1e-4));
        CHECK(t.log_error == doctest::Approx(e.log).epsilon(1e-4));
        CHECK(t.score == doctest::Approx(e.score).epsilon(1e-4));
        if (t.rule != ImputeRule::mean) CHECK(t.score < 1.0);  // four epochs already recover something
    }
}

TEST_CASE("a cancelled calibration ends at once and cannot be trained from") {
    const CountMatrix d = small_data();
    Session s(quick());
    s.settings().calibrate = true;
    s.set_data(d);
    CHECK_THROWS_AS(s.start_training(), std::logic_error);  // calibrate first
    Calibration& c = s.start_calibration();
    c.step(0.0);
    c.cancel();
    CHECK(c.step(1.0));
    CHECK(c.cancelled());
    CHECK(c.result().trials.size() < 6);
    CHECK_THROWS_AS(s.start_training(), std::logic_error);
}

TEST_CASE("a calibration cancelled before its first step ends without a candidate") {
    const CountMatrix d = small_data();
    Calibration c(d, quick());
    CHECK(c.trainer() == nullptr);
    c.cancel();
    CHECK(c.step(1.0));
    CHECK(c.cancelled());
    CHECK(c.trainer() == nullptr);
    CHECK(c.result().trials.empty());
}

TEST_CASE("a training without calibrate after a calibration carries no calibration") {
    Session s(quick());
    s.settings().calibrate = true;
    s.set_data(small_data());
    run_to_end(s.start_calibration());
    s.settings().calibrate = false;
    s.start_training().run();
    CHECK(s.model()->calibration.empty());
    CHECK(s.calibration() == nullptr);
    CHECK(s.report_json().find("\"calibration\"") == std::string::npos);
    CHECK(s.model_bytes().find("\ncalibration ") == std::string::npos);
}

TEST_CASE("a calibrated session trains the choice, and the report and the model file say what was tried") {
    Session s(quick());
    s.settings().calibrate = true;
    s.set_data(small_data());
    Calibration& c = s.start_calibration();
    run_to_end(c);
    const CalibrationTrial best = c.result().trials[c.result().chosen];
    s.start_training().run();
    s.impute();
    CHECK(s.model()->settings.rule == best.rule);
    CHECK(get_option(s.model()->settings, "optimizer") == (best.candidate == "dca" ? "rmsprop" : "adam"));
    const std::string report = s.report_json();
    CHECK(report.find("\"calibration\":{\"held_out\":") != std::string::npos);
    CHECK(report.find("\"calibrate\":\"true\"") != std::string::npos);
    CHECK(s.calibration()->masked().size() == 0);  // released once the final training started
    const std::string bytes = s.model_bytes();
    CHECK(bytes.find("\ncalibration {\"held_out\":") != std::string::npos);
    CHECK(bytes.find("option calibrate") == std::string::npos);  // a run's choice, not the model's
    const Model loaded = load_model(bytes, "m.zim");
    CHECK(loaded.calibration == c.result().json());
    CHECK(loaded.settings.rule == best.rule);
}

TEST_CASE("a matrix without non-zero counts cannot be calibrated") {
    CountMatrix d = small_data();
    d.counts.setZero();
    CHECK_THROWS_AS(Calibration(d, quick()), InputError);
}

TEST_CASE("the course experiment trains each of its variants once, calibrate or not") {
    Settings base = quick();
    base.calibrate = true;  // the page sends every option, calibrate included
    for (const Variant& v : course_variants(base)) CHECK(!v.settings.calibrate);
}
