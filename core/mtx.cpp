#include "mtx.hpp"

#include "settings.hpp"  // parse_decimal, the one number reader

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace zimpute {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view l = text.substr(pos, end - pos);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        out.push_back(l);
        pos = end + 1;
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
}

// Names from a features/barcodes file: one per line (trailing blank lines aside); column `col` of
// tab-separated fields when there are enough, else the first. An empty name is refused: it would
// be a gene or cell no one can name in the result.
std::vector<std::string> names_of(std::string_view text, int col, const std::string& file, const char* what) {
    std::vector<std::string> names;
    for (std::string_view l : lines_of(text)) {
        std::vector<std::string_view> f;
        std::size_t p = 0;
        for (;;) {
            const std::size_t t = l.find('\t', p);
            f.push_back(l.substr(p, t == std::string_view::npos ? std::string_view::npos : t - p));
            if (t == std::string_view::npos) break;
            p = t + 1;
        }
        names.emplace_back(static_cast<int>(f.size()) > col ? f[static_cast<std::size_t>(col)] : f[0]);
        if (names.back().empty())
            throw InputError(file + ": line " + std::to_string(names.size()) + ": an empty " + what);
    }
    return names;
}

}  // namespace

CountMatrix read_mtx(std::string_view mtx, std::string_view features, std::string_view barcodes,
                     const std::string& mtx_name, const std::string& features_name, const std::string& barcodes_name,
                     double max_entries) {
    check_text(mtx, mtx_name);  // an HDF5 or binary file is named as what it is, in any of the three
    check_text(features, features_name);
    check_text(barcodes, barcodes_name);
    const auto lines = lines_of(mtx);
    auto at = [&](std::size_t line) { return mtx_name + ": line " + std::to_string(line + 1) + ": "; };
    if (lines.empty()) throw InputError(mtx_name + ": the file is empty");
    const std::string banner(lines[0]);
    if (banner.rfind("%%MatrixMarket matrix coordinate", 0) != 0 || banner.find("general") == std::string::npos ||
        (banner.find("integer") == std::string::npos && banner.find("real") == std::string::npos))
        throw InputError(at(0) + "expected '%%MatrixMarket matrix coordinate integer general' (or real), found '" +
                         banner.substr(0, 60) + "'");
    std::size_t k = 1;
    while (k < lines.size() && (lines[k].empty() || lines[k][0] == '%')) ++k;
    if (k == lines.size()) throw InputError(mtx_name + ": no size line (rows cols entries)");
    double rows = 0, cols = 0, nnz = 0;
    {
        std::istringstream ss{std::string(lines[k])};
        std::string extra;
        if (!(ss >> rows >> cols >> nnz) || (ss >> extra) || rows < 1 || cols < 1 || nnz < 0 || rows != std::floor(rows) ||
            cols != std::floor(cols) || nnz != std::floor(nnz))
            throw InputError(at(k) + "expected 'rows columns entries' as three whole numbers, found '" + std::string(lines[k]) + "'");
    }
    if (rows * cols > max_entries)
        throw InputError(at(k) + "the header claims " + too_large_message(rows, "genes", cols, "cells"));
    if (nnz > rows * cols) throw InputError(at(k) + "more entries than the matrix has places");
    if (static_cast<double>(lines.size() - k - 1) != nnz)
        throw InputError(at(k) + "the header promises " + std::to_string(static_cast<long long>(nnz)) + " entries, the file has " +
                         std::to_string(lines.size() - k - 1));

    CountMatrix m;
    m.counts = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    for (std::size_t e = k + 1; e < lines.size(); ++e) {
        const std::string l(lines[e]);
        // Exactly three plain decimals (parse_decimal, as every CSV value): a missing value is not 0,
        // and hex or trailing text is refused. Split by hand: a stream per entry was several
        // times slower on 10x files of 100M entries.
        std::string f[3];
        std::size_t n = 0, p = 0;
        for (;;) {
            p = l.find_first_not_of(" \t", p);
            if (p == std::string::npos) break;
            const std::size_t e = std::min(l.find_first_of(" \t", p), l.size());
            if (n == 3) {
                n = 4;  // a fourth field
                break;
            }
            f[n++].assign(l, p, e - p);
            p = e;
        }
        double i = 0, j = 0, v = 0;
        if (n != 3 || !parse_decimal(f[0], i) || !parse_decimal(f[1], j) || !parse_decimal(f[2], v) ||
            i != std::floor(i) || j != std::floor(j) || i < 1 || j < 1 || i > rows || j > cols)
            throw InputError(at(e) + "expected 'row column value' inside " + std::to_string(static_cast<long long>(rows)) +
                             " x " + std::to_string(static_cast<long long>(cols)) + ", found '" + l.substr(0, 60) + "'");
        if (!std::isfinite(v) || v < 0 || v > std::numeric_limits<float>::max())
            throw InputError(at(e) + "expected a finite non-negative count, found '" + l.substr(0, 60) + "'");
        m.counts(static_cast<Eigen::Index>(i) - 1, static_cast<Eigen::Index>(j) - 1) += static_cast<float>(v);
    }
    m.genes = names_of(features, 1, features_name, "gene name");
    m.cells = names_of(barcodes, 0, barcodes_name, "barcode");
    if (static_cast<double>(m.genes.size()) != rows)
        throw InputError(features_name + ": " + std::to_string(m.genes.size()) + " lines, the matrix has " +
                         std::to_string(static_cast<long long>(rows)) + " genes");
    if (static_cast<double>(m.cells.size()) != cols)
        throw InputError(barcodes_name + ": " + std::to_string(m.cells.size()) + " lines, the matrix has " +
                         std::to_string(static_cast<long long>(cols)) + " cells");
    warn_duplicates(m.cells, "cell", m.warnings);  // as for CSV (10x features often repeat a symbol)
    warn_duplicates(m.genes, "gene", m.warnings);
    m.has_row_names = true;
    m.corner = "gene";
    return m;
}

}  // namespace zimpute
