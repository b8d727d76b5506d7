#include <doctest/doctest.h>

#include <zlib.h>

#include <string>

#include "compressed.hpp"
#include "count_matrix.hpp"
#include "session.hpp"

using namespace zimpute;

namespace {

std::string gzip(const std::string& text) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(compressBound(static_cast<uLong>(text.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(&out[0]);
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

TEST_CASE("gzip input is recognised by its bytes and read like the plain file") {
    std::string csv = "Cell1,Cell2\n";
    for (int i = 0; i < 3000; ++i) csv += std::to_string(i % 7) + "," + std::to_string(i % 5) + "\n";
    const std::string gz = gzip(csv);
    CHECK(is_gzip(gz));
    CHECK_FALSE(is_gzip(csv));
    CHECK(maybe_gunzip(gz, "x.csv.gz") == csv);
    CHECK(maybe_gunzip(csv, "x.csv") == csv);
    Session s;
    const CountMatrix& m = s.load_data(gz, {});
    CHECK(m.n_genes() == 3000);
    CHECK(m.counts(2999, 1) == static_cast<float>(2999 % 5));
}

TEST_CASE("damaged and truncated gzip data give a message, and the parser refuses raw gzip") {
    const std::string gz = gzip("a,b\n1,2\n3,4\n");
    std::string damaged = gz;
    damaged[12] = static_cast<char>(damaged[12] ^ 0x5a);
    damaged[13] = static_cast<char>(damaged[13] ^ 0x33);
    CHECK_THROWS_WITH_AS(maybe_gunzip(damaged, "d.csv.gz"), doctest::Contains("d.csv.gz: damaged gzip data"), InputError);
    CHECK_THROWS_WITH_AS(maybe_gunzip(gz.substr(0, gz.size() / 2), "t.csv.gz"), "t.csv.gz: truncated gzip data", InputError);
    ReadOptions o;
    o.source = "raw.gz";
    CHECK_THROWS_WITH_AS(read_counts(gz, o), "raw.gz: gzip-compressed; decompress it before parsing", InputError);
}

TEST_CASE("a gzip file of several members (cat a.gz b.gz) is read whole; other bytes after it are refused") {
    std::string first = "Cell1,Cell2\n", second;
    for (int i = 0; i < 2000; ++i) (i < 1000 ? first : second) += std::to_string(i % 7) + "," + std::to_string(i % 3) + "\n";
    const std::string both = gzip(first) + gzip(second);
    CHECK(maybe_gunzip(both, "ab.csv.gz") == first + second);
    CHECK(maybe_gunzip(gzip(first) + std::string(16, '\0'), "pad.csv.gz") == first);  // gzip's zero padding
    const std::string gz = gzip(first);
    CHECK_THROWS_WITH_AS(maybe_gunzip(gz + "garbage", "g.csv.gz"),
                         ("g.csv.gz: unexpected bytes after the gzip data (offset " + std::to_string(gz.size()) + ")").c_str(),
                         InputError);
    Session s;
    CHECK(s.load_data(maybe_gunzip(both, "ab.csv.gz"), {}).n_genes() == 2000);
}
