#include "csv_fields.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "count_matrix.hpp"

namespace zimpute::csv {
namespace {

// The leading decimal digits of [p, end), at most 18 (exact in 64 bits), as an integer in v;
// returns how many. Both number paths read plain digits through it, so they agree.
std::size_t leading_digits(const char* p, const char* end, std::uint64_t& v) {
    std::size_t n = 0;
    v = 0;
    while (p + n < end && n < 18 && static_cast<unsigned char>(p[n] - '0') < 10) v = v * 10 + static_cast<unsigned>(p[n++] - '0');
    return n;
}

}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string shorten(std::string_view s) {
    return s.size() > 40 ? std::string(s.substr(0, 37)) + "..." : std::string(s);
}

void split_fields(std::string_view line, char delim, std::vector<std::string_view>& fields,
                  std::vector<std::string>& storage, const std::string& source, long line_no) {
    fields.clear();
    storage.clear();
    storage.reserve(line.size() / 2 + 1);
    std::size_t i = 0;
    for (;;) {
        while (i < line.size() && line[i] == ' ') ++i;
        if (i < line.size() && line[i] == '"') {
            std::string value;
            std::size_t j = i + 1;
            bool closed = false;
            while (j < line.size()) {
                if (line[j] == '"') {
                    if (j + 1 < line.size() && line[j + 1] == '"') {
                        value += '"';
                        j += 2;
                        continue;
                    }
                    closed = true;
                    ++j;
                    break;
                }
                value += line[j++];
            }
            if (!closed)
                throw InputError(source + ": line " + std::to_string(line_no) + ", column " +
                                 std::to_string(fields.size() + 1) + ": unterminated quote");
            while (j < line.size() && line[j] == ' ') ++j;
            if (j < line.size() && line[j] != delim)
                throw InputError(source + ": line " + std::to_string(line_no) + ", column " +
                                 std::to_string(fields.size() + 1) + ": text after a closing quote");
            storage.push_back(std::move(value));
            fields.push_back(storage.back());
            i = j;
        } else {
            const std::size_t end = line.find(delim, i);
            const std::size_t stop = end == std::string_view::npos ? line.size() : end;
            fields.push_back(trim(line.substr(i, stop - i)));
            i = stop;
        }
        if (i >= line.size()) break;
        ++i;  // skip the delimiter
        if (i == line.size()) {  // a trailing delimiter ends with an empty field
            fields.push_back(std::string_view());
            break;
        }
    }
}

Parsed parse_number(std::string_view s, double& out) {
    if (s.empty()) return Parsed::not_a_number;
    std::uint64_t v = 0;
    if (leading_digits(s.data(), s.data() + s.size(), v) == s.size()) {
        out = static_cast<double>(v);
        return Parsed::number;
    }
    if (s.size() > 63) return Parsed::not_a_number;
    char buf[64];
    for (std::size_t k = 0; k < s.size(); ++k) {
        const char c = s[k];
        if (c == 'x' || c == 'X') return Parsed::not_a_number;
        buf[k] = c;
    }
    buf[s.size()] = '\0';
    char* end = nullptr;
    out = std::strtod(buf, &end);
    if (end == buf || static_cast<std::size_t>(end - buf) != s.size()) return Parsed::not_a_number;
    return Parsed::number;
}

bool parse_plain_row(std::string_view line, char delim, bool row_name, std::size_t n_cols,
                     std::vector<float>& values, std::string_view& name) {
    const char* p = line.data();
    const char* const end = p + line.size();
    if (row_name) {
        if (p == end || *p == '"' || *p == ' ') return false;
        const void* d = std::memchr(p, delim, static_cast<std::size_t>(end - p));
        if (!d) return false;
        name = trim(std::string_view(p, static_cast<std::size_t>(static_cast<const char*>(d) - p)));
        p = static_cast<const char*>(d) + 1;
    }
    const std::size_t base = values.size();
    values.resize(base + n_cols);
    float* out = values.data() + base;
    for (std::size_t c = 0; c < n_cols; ++c, ++p) {
        std::uint64_t v;
        const std::size_t digits = leading_digits(p, end, v);  // a 19th digit ends no field: refused
        p += digits;
        const bool field_ends = c + 1 == n_cols ? p == end : p < end && *p == delim;
        if (digits == 0 || !field_ends) {
            values.resize(base);
            return false;
        }
        out[c] = static_cast<float>(static_cast<double>(v));  // as parse_number, then the general path
    }
    return true;
}

bool looks_like_decimal_comma(std::string_view s) {
    const auto comma = s.find(',');
    if (comma == std::string_view::npos || s.size() > 63) return false;
    std::string t(s);
    t[comma] = '.';
    double v;
    return parse_number(t, v) == Parsed::number;
}

char detect_delimiter(std::string_view header) {
    const char candidates[] = {',', '\t', ';'};
    char best = ',';
    long best_count = 0, counts[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
        const char c = candidates[k];
        long& count = counts[k];
        bool quoted = false;
        for (char ch : header) {
            if (ch == '"') quoted = !quoted;
            else if (ch == c && !quoted) ++count;
        }
        if (count > best_count) {
            best = c;
            best_count = count;
        }
    }
    // European spreadsheets: ';' between values with decimal commas ("2,37;1,93;0,78") may hold
    // more commas than semicolons. Semicolons win when no ';'-field holds more than one comma.
    if (best == ',' && counts[2] > 0) {
        bool decimal_commas = true;
        std::size_t from = 0;
        for (;;) {
            const std::size_t to = header.find(';', from);
            const std::string_view f = header.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from);
            decimal_commas = decimal_commas && std::count(f.begin(), f.end(), ',') <= 1;
            if (to == std::string_view::npos) break;
            from = to + 1;
        }
        if (decimal_commas) best = ';';
    }
    return best;
}

std::string describe_delimiter(char d) { return d == '\t' ? "tab" : d == ';' ? "semicolon" : "comma"; }

}  // namespace zimpute::csv
