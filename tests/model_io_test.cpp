#include <doctest/doctest.h>

#include <cctype>
#include <cstdio>
#include <memory>

#include "checksum.hpp"
#include "model_io.hpp"
#include "session.hpp"
#include "simulate.hpp"

using namespace zimpute;

namespace {

std::string small_csv(bool named) {
    SimulateOptions o;
    o.genes = 40;
    o.cells = 60;
    Simulation s = simulate(o);
    if (named) s.observed.has_row_names = true;
    return write_counts(s.observed, s.observed.counts);
}

// A session trained for `epochs` on small_csv(true) and imputed (held by pointer: its trainer
// refers into it).
std::unique_ptr<Session> trained(int epochs) {
    auto s = std::make_unique<Session>();
    s->settings().train.epochs = epochs;
    s->load_data(small_csv(true), {});
    s->start_training().run();
    s->impute();
    return s;
}

}  // namespace

TEST_CASE("save -> load -> identical outputs, also through a session") {
    const auto trained_a = trained(3);
    Session& a = *trained_a;
    const std::string bytes = a.model_bytes();
    CHECK(bytes.rfind("ZIMPUTE-MODEL 2\n", 0) == 0);

    Session b;
    b.load_data(small_csv(true), {});
    b.load_model(bytes, "m.zim");
    b.impute();
    CHECK(b.imputed() == a.imputed());
    CHECK(b.prediction().theta == a.prediction().theta);
    CHECK(b.model_bytes() == bytes);
}

TEST_CASE("a model applies to a file whose genes come in another order") {
    Session a;
    a.settings().train.epochs = 2;
    a.load_data("gene,c1,c2,c3\nA,1,0,3\nB,0,2,1\nC,5,1,0\n", {});
    a.start_training().run();
    a.impute();
    Session b;
    b.load_data("gene,c1,c2,c3\nC,5,1,0\nA,1,0,3\nB,0,2,1\n", {});
    b.load_model(a.model_bytes(), "m.zim");
    b.impute();
    CHECK(b.imputed().row(0) == a.imputed().row(2));
    CHECK(b.imputed().row(1) == a.imputed().row(0));
}

TEST_CASE("genes that share a name match by occurrence: apply on the training file imputes as impute did") {
    const std::string csv = "gene,c1,c2,c3,c4\nA,1,0,3,2\nB,0,2,1,0\nA,5,1,0,4\nC,0,0,2,1\n";
    Session a;
    a.settings().train.epochs = 2;
    a.load_data(csv, {});
    a.start_training().run();
    a.impute();
    Session b;
    b.load_data(csv, {});
    b.load_model(a.model_bytes(), "m.zim");
    b.impute();
    CHECK(b.imputed() == a.imputed());  // the second A is the model's second A, not its first
    // The second A swapped with C: still by occurrence, so rows follow their names.
    Session c;
    c.load_data("gene,c1,c2,c3,c4\nA,1,0,3,2\nB,0,2,1,0\nC,0,0,2,1\nA,5,1,0,4\n", {});
    c.load_model(a.model_bytes(), "m.zim");
    c.impute();
    CHECK(c.imputed().row(3) == a.imputed().row(2));
    CHECK(c.imputed().row(2) == a.imputed().row(3));
    // A file with one A where the model had two is refused, saying so.
    Session d;
    d.load_data("gene,c1,c2,c3,c4\nA,1,0,3,2\nB,0,2,1,0\nC,0,0,2,1\nD,5,1,0,4\n", {});
    CHECK_THROWS_WITH_AS(d.load_model(a.model_bytes(), "m.zim"),
                         "this file has no gene 'A' as many times as the model (2), which the model was trained on (4 genes)",
                         InputError);
}

TEST_CASE("bad model files and mismatched genes give precise errors") {
    const auto trained_a = trained(1);
    Session& a = *trained_a;
    const std::string bytes = a.model_bytes();

    CHECK_THROWS_WITH_AS(load_model("hello", "m.zim"),
                         "m.zim: not a zimpute model file (it should start with 'ZIMPUTE-MODEL')", InputError);
    CHECK_THROWS_WITH_AS(load_model("ZIMPUTE-MODEL 9\n", "m.zim"),
                         "m.zim: line 1: unsupported model format 'ZIMPUTE-MODEL 9'; this zimpute reads versions 1 to 2",
                         InputError);
    CHECK_THROWS_WITH_AS(load_model(bytes.substr(0, bytes.size() - 8), "m.zim"), doctest::Contains("truncated or damaged"),
                         InputError);
    CHECK_THROWS_WITH_AS(load_model(bytes.substr(0, 200), "m.zim"), doctest::Contains("truncated model file"), InputError);

    Session b;
    b.load_data("gene,c1,c2\nX,1,2\nY,3,4\n", {});
    CHECK_THROWS_WITH_AS(b.load_model(bytes, "m.zim"), doctest::Contains("this file has no gene 'Gene1'"), InputError);
    Session c;
    c.load_data("c1,c2\n1,2\n3,4\n", {});
    CHECK_THROWS_WITH_AS(c.load_model(bytes, "m.zim"), "the model was trained on 40 genes, this file has 2", InputError);
}

TEST_CASE("the file carries a CRC-32 of header and weights: a changed byte anywhere is refused; version 1 still loads") {
    const auto trained_a = trained(1);
    Session& a = *trained_a;
    const std::string bytes = a.model_bytes();
    const std::size_t line2 = bytes.find('\n') + 1, line3 = bytes.find('\n', line2) + 1;
    REQUIRE(bytes.compare(line2, 6, "crc32 ") == 0);
    // The stored value is the CRC-32 (as zlib computes it: checksum_test) of the file without line 2.
    const std::string rest = bytes.substr(0, line2) + bytes.substr(line3);
    char expected[32];
    std::snprintf(expected, sizeof expected, "crc32 %08x\n", static_cast<unsigned>(crc32(rest)));
    CHECK(bytes.substr(line2, line3 - line2) == expected);
    // One flipped bit anywhere after line 2 (options, preprocessing, gene names, weights) is caught
    // by the checksum, or by the header's own checks first.
    for (std::size_t i = line3; i < bytes.size(); i += (bytes.size() - line3) / 23) {
        std::string damaged = bytes;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x04);
        CHECK_THROWS_AS(load_model(damaged, "m.zim"), InputError);
    }
    // A changed digit of the scale line parses, and only the checksum sees it.
    std::string edited = bytes;
    const std::size_t scale = edited.find("\nscale ") + 7;
    edited[scale] = edited[scale] == '1' ? '2' : '1';
    CHECK_THROWS_WITH_AS(load_model(edited, "m.zim"), doctest::Contains("the file does not match its checksum"), InputError);
    // Upper-case hex digits are the same checksum.
    std::string upper = bytes;
    for (std::size_t i = line2 + 6; i < line3 - 1; ++i) upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    CHECK_NOTHROW(load_model(upper, "m.zim"));
    // A version 1 file: no checksum line, loads and imputes the same.
    std::string v1 = rest;
    v1.replace(0, std::string("ZIMPUTE-MODEL 2").size(), "ZIMPUTE-MODEL 1");
    Session b;
    b.load_data(small_csv(true), {});
    b.load_model(v1, "old.zim");
    b.impute();
    CHECK(b.imputed() == a.imputed());
    // Version 2 without it is damaged.
    CHECK_THROWS_WITH_AS(load_model(rest, "m.zim"), "m.zim: model header lacks 'crc32' on line 2", InputError);
}

TEST_CASE("a header edited on Windows (CRLF) still loads; a malformed number is named, not a library message") {
    const auto trained_a = trained(1);
    Session& a = *trained_a;
    const std::string bytes = a.model_bytes();
    const std::size_t data = bytes.find("\ndata\n") + 6;
    std::string crlf;
    for (std::size_t i = 0; i < data; ++i) crlf += bytes[i] == '\n' ? std::string("\r\n") : std::string(1, bytes[i]);
    crlf += bytes.substr(data);
    Session b;
    b.load_data(small_csv(true), {});
    b.load_model(crlf, "crlf.zim");
    b.impute();
    CHECK(b.imputed() == a.imputed());

    auto replaced = [&](const std::string& from, const std::string& to) {
        std::string s = bytes;
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    CHECK_THROWS_WITH_AS(load_model(replaced("\ngenes_total 40\n", "\ngenes_total 4x0\n"), "m.zim"),
                         "m.zim: malformed number in the model header ('genes_total')", InputError);
    CHECK_THROWS_WITH_AS(load_model(replaced("\nparams ", "\nparams 0x"), "m.zim"),
                         "m.zim: parameter counts do not match the options in the header (damaged file?)", InputError);
}
