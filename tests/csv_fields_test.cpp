// The lexical layer of the reader: lines, fields, numbers, delimiters (csv_fields.hpp). The
// reader's own tests (count_matrix_test.cpp) cover how these make a matrix and its messages.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "count_matrix.hpp"
#include "csv_fields.hpp"

using namespace zimpute;
using namespace zimpute::csv;

namespace {

std::vector<std::string> fields_of(const std::string& line, char delim = ',') {
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    split_fields(line, delim, fields, storage, "x.csv", 7);
    return {fields.begin(), fields.end()};
}

std::string split_error(const std::string& line) {
    try {
        fields_of(line);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("lines: blank and space-only lines are skipped, CR is dropped, numbers are physical lines") {
    LineReader lines("a,b\r\n\n   \r\n1,2\n3,4");
    std::string_view l;
    long n = 0;
    REQUIRE(lines.next(l, n));
    CHECK(l == "a,b");
    CHECK(n == 1);
    REQUIRE(lines.next(l, n));
    CHECK(l == "1,2");
    CHECK(n == 4);
    REQUIRE(lines.next(l, n));
    CHECK(l == "3,4");  // no newline at the end
    CHECK(n == 5);
    CHECK_FALSE(lines.next(l, n));
}

TEST_CASE("fields: trimmed, quoted with delimiters and doubled quotes, a trailing delimiter ends with an empty one") {
    CHECK(fields_of("a, b ,c") == std::vector<std::string>{"a", "b", "c"});
    CHECK(fields_of("\"x, y\",\"say \"\"hi\"\"\",z") == std::vector<std::string>{"x, y", "say \"hi\"", "z"});
    CHECK(fields_of("a,b,") == std::vector<std::string>{"a", "b", ""});
    CHECK(fields_of("a\tb", '\t') == std::vector<std::string>{"a", "b"});
    CHECK(split_error("a,\"b") == "x.csv: line 7, column 2: unterminated quote");
    CHECK(split_error("\"a\"b,c") == "x.csv: line 7, column 1: text after a closing quote");
}

TEST_CASE("numbers: digits, decimals and exponents; hex, partial and empty fields are not numbers") {
    double v = -1;
    CHECK(parse_number("0", v) == Parsed::number);
    CHECK(v == 0);
    CHECK(parse_number("123456789012345678", v) == Parsed::number);  // 18 digits: the integer path
    CHECK(v == 123456789012345678.0);
    CHECK(parse_number("1234567890123456789", v) == Parsed::number);  // 19: strtod, still right
    CHECK(v == 1234567890123456789.0);
    CHECK(parse_number("1.5", v) == Parsed::number);
    CHECK(v == 1.5);
    CHECK(parse_number("2e3", v) == Parsed::number);
    CHECK(v == 2000);
    CHECK(parse_number("-4", v) == Parsed::number);  // a number; the reader rejects it as a count
    CHECK(v == -4);
    for (const char* s : {"", "0x10", "1.5abc", "abc", "1,5"}) CHECK(parse_number(s, v) == Parsed::not_a_number);
    CHECK(looks_like_decimal_comma("1,5"));
    CHECK_FALSE(looks_like_decimal_comma("a,b"));
}

TEST_CASE("plain rows: the one-pass reader gives the general path's values, or refuses and appends nothing") {
    for (const std::string row : {"g1,0,5,17", "0,5,17", "TP53,123456789012345678,0,1"}) {
        const bool named = row[0] == 'g' || row[0] == 'T';
        const std::size_t n = 3;
        std::vector<float> values = {9.0f};
        std::string_view name;
        REQUIRE(parse_plain_row(row, ',', named, n, values, name));
        const std::vector<std::string> f = fields_of(row);
        REQUIRE(values.size() == 1 + n);
        for (std::size_t c = 0; c < n; ++c) {
            double v = 0;
            REQUIRE(parse_number(f[c + (named ? 1 : 0)], v) == Parsed::number);
            CHECK(values[1 + c] == static_cast<float>(v));
        }
        if (named) CHECK(name == f[0]);
    }
    // Anything else is left to the general path, with the values untouched.
    for (const std::string row : {"g1,1.5,2,3", "g1,1,2", "g1,1,2,3,", "\"g1\",1,2,3", "g1,1, 2,3", "g1,1,2,1234567890123456789"}) {
        CAPTURE(row);
        std::vector<float> values = {9.0f};
        std::string_view name;
        CHECK_FALSE(parse_plain_row(row, ',', true, 3, values, name));
        CHECK(values == std::vector<float>{9.0f});
    }
}

TEST_CASE("delimiters: the most frequent of comma, tab and semicolon outside quotes") {
    CHECK(detect_delimiter("a,b,c") == ',');
    CHECK(detect_delimiter("a\tb\tc") == '\t');
    CHECK(detect_delimiter("\"a,b,c\";d") == ';');
    CHECK(detect_delimiter("single") == ',');
    CHECK(describe_delimiter('\t') == "tab");
    CHECK(describe_delimiter(';') == "semicolon");
    CHECK(describe_delimiter(',') == "comma");
}
