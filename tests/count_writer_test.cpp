#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "count_writer.hpp"
#include "test_util.hpp"

using namespace zimpute;

namespace {

std::string formatted(float v) {
    char buf[kValueChars];
    return std::string(buf, format_value(v, buf));
}

// The reference: what the writer printed before it had its own formatter.
std::string printf_g7(float v) {
    char buf[64];
    return std::string(buf, static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "%.7g", static_cast<double>(v))));
}

float from_bits(std::uint32_t b) {
    float v;
    std::memcpy(&v, &b, sizeof v);
    return v;
}

std::uint32_t to_bits(float v) {
    std::uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

// Every non-integral finite value formats as printf's %.7g; returns how many disagreed (and
// reports the first few).
int mismatches_in(const std::vector<float>& values) {
    int bad = 0;
    for (float v : values) {
        if (!std::isfinite(v) || v == std::floor(v)) continue;
        const std::string got = formatted(v), want = printf_g7(v);
        if (got != want && ++bad <= 5) MESSAGE("bits ", to_bits(v), ": got '", got, "', printf gives '", want, "'");
    }
    return bad;
}

}  // namespace

TEST_CASE("writer keeps labels, delimiter and orientation; integers without decimals") {
    const std::string course = "Cell1,Cell2\n0,5\n2,0\n";
    const CountMatrix a = test::read_csv(course);
    CHECK(write_counts(a, a.counts) == course);

    const std::string named = "gene\tc1\tc2\nTP53\t1\t2\n";
    const CountMatrix b = test::read_csv(named);
    CHECK(write_counts(b, b.counts) == named);

    const std::string rstyle = "\"\",c1\n\"g,1\",3\n";
    const CountMatrix c = test::read_csv(rstyle);
    CHECK(write_counts(c, c.counts) == ",c1\n\"g,1\",3\n");

    const std::string rows = "cell,GeneA,GeneB\nc1,1,2\nc2,4,5\n";
    const CountMatrix d = test::read_csv(rows, true);
    Eigen::MatrixXf v = d.counts;
    v(0, 1) = 2.25f;
    v(1, 0) = 1.0f / 3.0f;
    CHECK(write_counts(d, v) == "cell,GeneA,GeneB\nc1,1,0.3333333\nc2,2.25,5\n");

    CHECK_THROWS_AS(write_counts(d, Eigen::MatrixXf::Zero(3, 3)), std::invalid_argument);
}

TEST_CASE("values: whole numbers without decimals, others with 7 significant digits as %.7g") {
    // Written out, so the reference does not rest on this platform's printf alone.
    CHECK(formatted(0.0f) == "0");
    CHECK(formatted(-0.0f) == "0");
    CHECK(formatted(17.0f) == "17");
    CHECK(formatted(123456789.0f) == "123456792");  // the float nearest 123456789
    CHECK(formatted(1e15f) == "1e+15");             // from 1e15 on, %.7g even for whole numbers
    CHECK(formatted(1.0f / 3.0f) == "0.3333333");
    CHECK(formatted(2.0f / 3.0f) == "0.6666667");
    CHECK(formatted(-2.25f) == "-2.25");
    CHECK(formatted(123456.7f) == "123456.7");
    CHECK(formatted(0.0001234f) == "0.0001234");
    CHECK(formatted(0.00001234f) == "1.234e-05");
    CHECK(formatted(1e-5f) == "1e-05");
    CHECK(formatted(0.01f) == "0.01");               // 0.0099999998: 7 digits round up a decade
    CHECK(formatted(1234567.5f) == "1234568");       // exact ties: to even, as printf
    CHECK(formatted(1234566.5f) == "1234566");
    CHECK(formatted(1234.5625f) == "1234.562");
    CHECK(formatted(1234.6875f) == "1234.688");
    CHECK(formatted(1.5e-30f) == "1.5e-30");         // outside the scaled range: snprintf
    CHECK(formatted(3.4e38f) == "3.4e+38");
    CHECK(formatted(std::numeric_limits<float>::infinity()) == "inf");
    CHECK(formatted(std::numeric_limits<float>::quiet_NaN()) == "nan");
}

TEST_CASE("the formatter agrees with printf's %.7g on random floats, near powers of ten and at ties") {
    std::vector<float> values;
    std::mt19937 rng(7);
    for (int i = 0; i < 400000; ++i) values.push_back(from_bits(static_cast<std::uint32_t>(rng())));  // every exponent
    std::uniform_real_distribution<float> typical(0.0f, 50.0f);  // imputed means
    for (int i = 0; i < 200000; ++i) values.push_back(typical(rng));
    // Around each power of ten (where the decimal exponent changes, and x.9999995 rounds up).
    for (int e = -45; e <= 38; ++e) {
        const float p = static_cast<float>(std::pow(10.0, e));
        for (int d = -3000; d <= 3000; ++d) values.push_back(from_bits(to_bits(p) + static_cast<std::uint32_t>(d)));
    }
    // Exact halves of the 7th digit, and floats one step either side of them.
    for (int i = 0; i < 20000; ++i) {
        const float tie = static_cast<float>(1000000 + rng() % 7388608) + 0.5f;
        for (float v : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 1e9f)}) {
            values.push_back(v);
            values.push_back(v * 1e-3f);
            values.push_back(-v);
        }
    }
    CHECK(mismatches_in(values) == 0);
}

TEST_CASE("the fast formatter takes all but near-tie values itself") {
    // format_value would pass the comparison above with every value sent to snprintf; this makes
    // sure the fast path does the work. Non-integral values (whole ones never reach it): those
    // below 1e7 with digits beyond the 7th.
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> log_x(-10.0, 6.5);
    int declined = 0, bad = 0;
    char buf[kValueChars];
    for (int i = 0; i < 100000; ++i) {
        const float v = static_cast<float>(std::pow(10.0, log_x(rng)));
        char* end = detail::format_g7(v, buf);
        if (!end) {
            ++declined;
            continue;
        }
        bad += std::string(buf, end) != printf_g7(v);
    }
    CHECK(bad == 0);
    CHECK(declined < 10);
    CHECK(detail::format_g7(1234567.5 + 1e-8, buf) == nullptr);  // near a tie: left to snprintf
    CHECK(detail::format_g7(1e-20, buf) == nullptr);      // outside the exact powers of ten
}
