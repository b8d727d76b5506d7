#include "count_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace zimpute {
namespace {

// 10^0 .. 10^22: each is a double exactly, so x * 10^k and x / 10^k are rounded once.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

double scale_pow10(double x, int k) { return k >= 0 ? x * kPow10[k] : x / kPow10[-k]; }

// Whether s = scale_pow10(x, k) is exact: the fused product's difference is zero only then.
bool scaled_exactly(double x, int k, double s) {
    return k >= 0 ? std::fma(x, kPow10[k], -s) == 0 : std::fma(s, kPow10[-k], -x) == 0;
}

void append_label(std::string& out, const std::string& s, char delim) {
    if (s.find(delim) == std::string::npos && s.find('"') == std::string::npos && s.find('\n') == std::string::npos) {
        out += s;
        return;
    }
    out += '"';
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

}  // namespace

namespace detail {

// Gives up (nullptr) where x * 10^(6-e) is within 1e-6 of a rounding tie without being one
// exactly: the one rounding error of the scaling (< 1e7 * 2^-53 ~ 1e-9) could decide it there;
// snprintf is exact. Why not snprintf always: it was ~13% of a whole native imputation run
// (formatting 2M values), and Emscripten 3.1.6's libc++ has no float to_chars.
char* format_g7(double x, char* out) {
    int b2;
    std::frexp(x, &b2);  // x in [2^(b2-1), 2^b2)
    // e <= floor(log10 x) <= e + 1: the interval spans log10(2) < 1 decades.
    int e = static_cast<int>(std::floor((b2 - 1) * 0.30102999566398120));
    if (e < -16 || e > 27) return nullptr;
    double s = scale_pow10(x, 6 - e);  // x in 7-digit units: [1e6, 1e8)
    if (s >= 1e7) s = scale_pow10(x, 6 - ++e);
    if (s < 1e6 || s >= 1e7) return nullptr;  // x within rounding of a power of ten
    auto n = static_cast<std::uint32_t>(s);  // floor
    const double frac = s - n;
    if (frac == 0.5 && scaled_exactly(x, 6 - e, s))
        n += n & 1;  // an exact tie (1/256 of floats in [1e3, 1e4)): to even, as printf
    else if (std::fabs(frac - 0.5) < 1e-6)
        return nullptr;
    else
        n += frac > 0.5;
    if (n == 10000000) {  // rounded up to the next decade: 9999999.7 -> 1.000000e7
        n = 1000000;
        ++e;
    }
    char dig[7];
    for (int i = 6; i >= 0; --i, n /= 10) dig[i] = static_cast<char>('0' + n % 10);
    int len = 7;  // %g drops trailing zeros (and then a trailing point)
    while (len > 1 && dig[len - 1] == '0') --len;
    char* p = out;
    if (e < -4 || e >= 7) {  // %g's choice: style e when the exponent is < -4 or >= the precision
        *p++ = dig[0];
        if (len > 1) {
            *p++ = '.';
            p = std::copy(dig + 1, dig + len, p);
        }
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        const int a = e < 0 ? -e : e;  // at most 28 here: two digits
        *p++ = static_cast<char>('0' + a / 10);
        *p++ = static_cast<char>('0' + a % 10);
    } else if (e >= 0) {
        p = std::copy(dig, dig + e + 1, p);
        if (len > e + 1) {
            *p++ = '.';
            p = std::copy(dig + e + 1, dig + len, p);
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -e - 1; ++i) *p++ = '0';
        p = std::copy(dig, dig + len, p);
    }
    return p;
}

}  // namespace detail

char* format_value(float v, char* out) {
    if (v == std::floor(v) && std::fabs(v) < 1e15f)
        return std::to_chars(out, out + kValueChars, static_cast<long long>(v)).ptr;
    if (std::isfinite(v)) {
        char* p = out;
        double x = v;
        if (x < 0) {
            *p++ = '-';
            x = -x;
        }
        if (char* end = detail::format_g7(x, p)) return end;
    }
    return out + std::snprintf(out, kValueChars, "%.7g", static_cast<double>(v));
}

void write_counts(const TableLayout& layout, const Eigen::MatrixXf& values, const TextSink& sink) {
    const auto genes = static_cast<Eigen::Index>(layout.genes.size()), cells = static_cast<Eigen::Index>(layout.cells.size());
    if (values.rows() != genes || values.cols() != cells)
        throw std::invalid_argument("write_counts: values are " + std::to_string(values.rows()) + "x" +
                                    std::to_string(values.cols()) + ", layout is " + std::to_string(genes) + "x" +
                                    std::to_string(cells));
    const char d = layout.delimiter;
    const auto& col_labels = layout.cells_in_rows ? layout.genes : layout.cells;
    const auto& row_labels = layout.cells_in_rows ? layout.cells : layout.genes;
    const Eigen::Index n_rows = layout.cells_in_rows ? values.cols() : values.rows();
    const Eigen::Index n_cols = layout.cells_in_rows ? values.rows() : values.cols();

    // Text leaves in chunks of about kChunk bytes (whole rows), so the output never exists as
    // one string: formatted, it is 2-3x the float matrix, and a growing string briefly holds
    // twice that. This was the peak of a whole imputation run.
    // Flushed at half the reserved size, so a row (up to ~kChunk / 2) never makes it reallocate.
    constexpr std::size_t kChunk = 1 << 20;
    std::string out;
    out.reserve(kChunk);
    char buf[kValueChars];
    bool first = true;
    if (layout.has_header && layout.has_row_names && layout.header_has_corner) {
        append_label(out, layout.corner, d);
        first = false;
    }
    for (std::size_t c = 0; layout.has_header && c < col_labels.size(); ++c) {
        if (!first) out += d;
        append_label(out, col_labels[c], d);
        first = false;
    }
    if (layout.has_header) out += '\n';
    for (Eigen::Index r = 0; r < n_rows; ++r) {
        if (layout.has_row_names) {
            append_label(out, row_labels[static_cast<std::size_t>(r)], d);
            out += d;
        }
        for (Eigen::Index c = 0; c < n_cols; ++c) {
            if (c) out += d;
            char* const end = format_value(layout.cells_in_rows ? values(c, r) : values(r, c), buf);
            out.append(buf, end);
        }
        out += '\n';
        if (out.size() >= kChunk / 2) {
            sink(out);
            out.clear();
        }
    }
    if (!out.empty()) sink(out);
}

std::string write_counts(const TableLayout& layout, const Eigen::MatrixXf& values) {
    std::string text;
    write_counts(layout, values, [&](std::string_view chunk) { text.append(chunk); });
    return text;
}

}  // namespace zimpute
