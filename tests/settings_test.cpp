#include <doctest/doctest.h>

#include <algorithm>

#include "settings.hpp"

using namespace zimpute;

TEST_CASE("every documented option round-trips through set_option/get_option") {
    Settings s;
    for (const auto& d : option_docs()) {
        CAPTURE(d.key);
        CHECK_NOTHROW(set_option(s, d.key, d.default_value));
        CHECK(get_option(s, d.key) == d.default_value);
    }
    set_option(s, "hidden", "128,16,128");
    CHECK(s.network.hidden == std::vector<int>{128, 16, 128});
    CHECK(network_options(s).zero_inflated);
    set_option(s, "loss", "nb");
    CHECK_FALSE(network_options(s).zero_inflated);
    set_option(s, "loss", "original");
    CHECK(network_options(s).zero_inflated);
}

TEST_CASE("unknown keys and bad values are rejected with the accepted forms") {
    Settings s;
    CHECK_THROWS_WITH_AS(set_option(s, "epoch", "3"), doctest::Contains("unknown option 'epoch'; known options: epochs,"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(set_option(s, "epochs", "abc"), "option 'epochs' expects a number in [1, 100000], got 'abc'",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(set_option(s, "epochs", "2.5"), "option 'epochs' expects a whole number, got '2.5'",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(set_option(s, "rule", "best"), "rule must be posterior, course or mean, not 'best'",
                         std::invalid_argument);
    set_option(s, "rule", "seed");  // the old name of the course rule, in model files saved before
    CHECK(get_option(s, "rule") == "course");
    CHECK_THROWS_AS(set_option(s, "batchnorm", "maybe"), std::invalid_argument);
    CHECK_THROWS_AS(set_option(s, "validation", "0.95"), std::invalid_argument);
}

TEST_CASE("presets") {
    const Settings dca = preset("dca");
    CHECK(dca.train.optimizer.kind == OptimizerKind::rmsprop);
    CHECK(dca.train.optimizer.clip_value == 5.0);
    CHECK(dca.rule == ImputeRule::mean);
    const Settings course = preset("course");
    CHECK(course.preprocess.size_factors == SizeFactorMethod::median);
    CHECK(course.rule == ImputeRule::course);
    CHECK(course.network.batchnorm);
    CHECK_THROWS_AS(preset("fast"), std::invalid_argument);
    // real: the defaults, calibrated on the data, an ensemble; nothing else differs.
    Settings real = preset("real");
    CHECK(real.calibrate);
    CHECK(real.ensemble == kRealEnsemble);
    real.calibrate = false;
    real.ensemble = 1;
    for (const auto& d : option_docs()) CHECK(get_option(real, d.key) == get_option(Settings{}, d.key));
}

TEST_CASE("an option's choices are exactly what set_option accepts") {
    int closed = 0;
    for (const auto& d : option_docs()) {
        CAPTURE(d.key);
        if (d.choices.empty()) continue;
        ++closed;
        Settings s;
        CHECK(std::find(d.choices.begin(), d.choices.end(), d.default_value) != d.choices.end());
        for (const auto& c : d.choices) {
            CHECK_NOTHROW(set_option(s, d.key, c));
            CHECK(get_option(s, d.key) == c);
        }
        CHECK_THROWS_AS(set_option(s, d.key, "not-a-choice"), std::invalid_argument);
    }
    CHECK(closed == 13);  // every enum and boolean option, and no numeric one
}

TEST_CASE("numbers are plain decimals, read whole or refused") {
    double d = 0;
    for (const char* ok : {"5", "-2", "0.5", ".5", "5.", "1e-3", "3e3", "2.5E+2"}) {
        CAPTURE(ok);
        CHECK(parse_decimal(ok, d));
    }
    CHECK((parse_decimal("3e3", d) && d == 3000.0));
    for (const char* bad : {"", "-", ".", "0x10", " 5", "5 ", "+5", "inf", "nan", "1e", "1e+", "5x", "1,5", "1e400"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_decimal(bad, d));
    }
    Settings s;
    CHECK_THROWS_WITH_AS(set_option(s, "epochs", "0x10"), "option 'epochs' expects a number in [1, 100000], got '0x10'",
                         std::invalid_argument);
    CHECK_THROWS_AS(set_option(s, "epochs", " 5"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(set_option(s, "seed", "1.5"), "option 'seed' expects a whole number, got '1.5'", std::invalid_argument);
    set_option(s, "learning-rate", "1e-3");
    CHECK(s.train.optimizer.learning_rate == 1e-3);
}
