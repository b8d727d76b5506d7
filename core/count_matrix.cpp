#include "count_matrix.hpp"

#include "compressed.hpp"
#include "csv_fields.hpp"
#include "orientation.hpp"
#include "row_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace zimpute {
using namespace csv;

void warn_duplicates(const std::vector<std::string>& names, const char* what, std::vector<std::string>& warnings) {
    std::unordered_set<std::string> seen;
    for (const auto& n : names)
        if (!seen.insert(n).second) {
            warnings.push_back(std::string("duplicate ") + what + " name '" + shorten(n) + "' (first duplicate shown)");
            return;
        }
}

std::string too_large_message(double a, const char* what_a, double b, const char* what_b) {
    char text[160];  // %.0f: whole numbers of any size (a header may claim 1e19 rows)
    std::snprintf(text, sizeof text, "%.0f %s x %.0f %s, %.1f GB as dense floats", a, what_a, b, what_b, a * b * 4 / 1e9);
    return std::string(text) + ", more than zimpute holds here: select genes or cells first";
}

void check_modelable(const CountMatrix& m) {
    Eigen::Index gene = 0, cell = 0;
    if (m.counts.size() == 0 || m.counts.maxCoeff(&gene, &cell) <= kMaxModelCount) return;
    char value[32];
    std::snprintf(value, sizeof value, "%g", static_cast<double>(m.counts(gene, cell)));
    const auto label = [](const std::vector<std::string>& names, Eigen::Index i, const char* what) {
        return static_cast<std::size_t>(i) < names.size() ? std::string(what) + " '" + names[static_cast<std::size_t>(i)] + "'"
                                                          : std::string(what) + " " + std::to_string(i + 1);
    };
    throw InputError(label(m.genes, gene, "gene") + ", " + label(m.cells, cell, "cell") + ": a count of " + value +
                     " is more than zimpute can model (at most 1e9 an entry); is this a matrix of counts?");
}

// A file that is not UTF-8/ASCII text with LF or CRLF line ends, named as what it is (issue 17,
// rule 2) instead of being reported as a line and column of a CSV it never was.
void check_text(std::string_view text, const std::string& src) {
    const auto starts = [&](std::string_view magic) { return text.substr(0, magic.size()) == magic; };
    if (starts("\xFF\xFE") || starts("\xFE\xFF") ||
        (text.size() >= 4 && ((text[0] != 0 && text[1] == 0 && text[2] != 0 && text[3] == 0) ||
                              (text[0] == 0 && text[1] != 0 && text[2] == 0 && text[3] != 0))))
        throw InputError(src + ": UTF-16 text; save it as UTF-8 (or ASCII) and try again");
    if (starts(std::string_view("\x89HDF\r\n\x1a\n", 8)))
        throw InputError(src + ": an HDF5 file (such as AnnData .h5ad or 10x .h5), not text; zimpute reads CSV/TSV "
                               "text and 10x matrix.mtx files");
    if (starts("PK\x03\x04")) throw InputError(src + ": a ZIP archive; unpack it and give the CSV/TSV inside");
    const std::size_t nul = text.substr(0, std::size_t(1) << 16).find('\0');
    if (nul != std::string_view::npos)
        throw InputError(src + ": a binary file (a zero byte at offset " + std::to_string(nul) + "), not CSV/TSV text");
    if (text.find('\n') == std::string_view::npos && text.find('\r') != std::string_view::npos)
        throw InputError(src + ": lines end in a carriage return only (classic Mac); save it with LF or CRLF line ends");
}

std::vector<Eigen::Index> match_by_name(const std::vector<std::string>& wanted, const std::vector<std::string>& available) {
    std::unordered_map<std::string, std::vector<Eigen::Index>> pos;  // every position of each name, in order
    for (std::size_t i = 0; i < available.size(); ++i) pos[available[i]].push_back(static_cast<Eigen::Index>(i));
    std::unordered_map<std::string, std::size_t> used;  // occurrences of each name matched so far
    std::vector<Eigen::Index> idx(wanted.size(), -1);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const auto it = pos.find(wanted[i]);
        if (it == pos.end()) continue;
        const std::size_t k = used[wanted[i]]++;
        if (k < it->second.size()) idx[i] = it->second[k];
    }
    return idx;
}

namespace {

// What the values of each column were: a column of text only (no number, no empty field) is
// metadata, e.g. 'group'; any other non-numeric entry is an error at that entry.
struct ColumnScan {
    explicit ColumnScan(std::size_t n) : numeric(n, 0), text(n, 0), missing(n, 0), bad_line(n, 0), bad_text(n) {}

    // One row's value fields (after the index column) into `values`; bad values throw at once.
    void read(const std::vector<std::string_view>& fields, std::size_t first_value, std::vector<float>& values,
              const std::string& src, long line_no) {
        ++rows_read;
        for (std::size_t c = 0; c < numeric.size(); ++c) {
            const std::string_view f = fields[first_value + c];
            double v = 0;
            if (parse_number(f, v) == Parsed::not_a_number) {
                // Text, or a missing value (NA, or empty): a label column may miss some labels, but a
                // column of NA alone is no label column (labels() needs one text).
                // A decimal comma is a value too: refused with its hint, never a label.
                (!f.empty() && !missing_marker(f) && !looks_like_decimal_comma(f) ? text : missing)[c]++;
                if (numeric[c] == 0 && text[c] + missing[c] == rows_read) column_text[c].emplace_back(f);  // may be a label column
                if (bad_line[c] == 0) {
                    bad_line[c] = line_no;
                    bad_text[c] = shorten(f);
                }
                values.push_back(0.0f);
                continue;
            }
            if (!std::isfinite(v) || v < 0 || v > std::numeric_limits<float>::max()) {
                const std::string where = src + ": line " + std::to_string(line_no) + ", column " + std::to_string(first_value + c + 1);
                if (!std::isfinite(v)) throw InputError(where + ": expected a finite count, found '" + shorten(f) + "'");
                if (v < 0) throw InputError(where + ": expected a non-negative count, found '" + shorten(f) + "'");
                throw InputError(where + ": value too large for single precision: '" + shorten(f) + "'");
            }
            if (v != std::floor(v) && non_integer++ == 0) {
                non_integer_line = line_no;
                non_integer_col = first_value + c + 1;
                non_integer_text = shorten(f);
            }
            ++numeric[c];
            if (numeric[c] == 1 && !column_text.empty()) column_text.erase(c);  // a number: not a label column
            values.push_back(static_cast<float>(v));
        }
    }

    // The values of the first column kept out as text only (see kept), with its name; none when
    // there is no such column.
    std::pair<std::string, std::vector<std::string>> first_text_column(const std::vector<std::string>& names, Eigen::Index rows,
                                                                       long all_numeric_rows) {
        for (std::size_t c = 0; c < numeric.size(); ++c)
            if (is_label_column(c, rows, all_numeric_rows) && column_text.count(c))
                return {names[c], std::move(column_text[c])};
        return {};
    }

    // The columns to keep (text-only columns skipped with a warning); throws at the first bad
    // entry of any other column. `all_numeric_rows` rows were read as numbers only.
    std::vector<std::size_t> kept(const std::vector<std::string>& names, Eigen::Index rows, long all_numeric_rows,
                                  std::size_t first_value, const std::string& src, std::vector<std::string>& warnings) const {
        std::vector<std::size_t> keep;
        std::string skipped;
        std::size_t n_skipped = 0;
        for (std::size_t c = 0; c < numeric.size(); ++c) {
            if (is_label_column(c, rows, all_numeric_rows)) {
                skipped += (n_skipped++ ? ", '" : "'") + shorten(names[c]) + "'";
                continue;
            }
            if (bad_line[c] != 0)
                throw InputError(src + ": line " + std::to_string(bad_line[c]) + ", column " + std::to_string(first_value + c + 1) +
                                 ": expected a non-negative number, found '" + bad_text[c] + "'" +
                                 (looks_like_decimal_comma(bad_text[c]) ? " (a decimal comma? use a decimal point)" : ""));
            keep.push_back(c);
        }
        if (n_skipped) warnings.push_back("skipped non-numeric column" + std::string(n_skipped > 1 ? "s " : " ") + skipped);
        if (keep.empty()) throw InputError(src + ": no numeric columns");
        if (non_integer > 0)
            warnings.push_back(std::to_string(non_integer) + " value" + (non_integer > 1 ? "s are" : " is") +
                               " not an integer (first at line " + std::to_string(non_integer_line) + ", column " +
                               std::to_string(non_integer_col) + ": '" + non_integer_text +
                               "'); counts are expected, values are used as given");
        return keep;
    }

    // No number, some text, and text or a missing value in every row.
    bool is_label_column(std::size_t c, Eigen::Index rows, long all_numeric_rows) const {
        return numeric[c] + all_numeric_rows == 0 && text[c] > 0 && text[c] + missing[c] == rows;
    }

    std::vector<long> numeric, text, missing, bad_line;
    std::vector<std::string> bad_text;
    std::map<std::size_t, std::vector<std::string>> column_text;  // columns with text in every row so far
    long rows_read = 0;
    long non_integer = 0, non_integer_line = 0;
    std::size_t non_integer_col = 0;
    std::string non_integer_text;
};

// The file's columns as stored (matrix columns, or rows when declared cells in rows) without
// the skipped ones.
void drop_columns(Eigen::MatrixXf& counts, const std::vector<std::size_t>& keep, std::size_t n_cols, bool rows_as_columns) {
    if (keep.size() == n_cols) return;
    if (rows_as_columns) {
        counts = counts(keep, Eigen::all).eval();
        return;
    }
    // Kept columns move left (never onto one still to be read), then the storage shrinks in
    // place: a column-major matrix keeps its columns when only their number changes.
    for (std::size_t j = 0; j < keep.size(); ++j)
        if (keep[j] != j) counts.col(static_cast<Eigen::Index>(j)) = counts.col(static_cast<Eigen::Index>(keep[j]));
    counts.conservativeResize(Eigen::NoChange, static_cast<Eigen::Index>(keep.size()));
}

// Genes in rows unless declared otherwise, or unless the labels clearly say the file is
// transposed (orientation.hpp), which the warning explains.
void detect_transposed(CountMatrix& m, const ReadOptions& options, const std::vector<std::string>& col_names,
                       const std::vector<std::string>& row_names, bool index_col) {
    if (m.cells_in_rows || !options.detect_orientation || !looks_transposed(col_names, row_names, index_col)) return;
    m.cells_in_rows = true;
    std::string examples;
    for (std::size_t k = 0; k < std::min<std::size_t>(3, col_names.size()); ++k)
        examples += (k ? ", '" : "'") + shorten(col_names[k]) + "'";
    m.warnings.push_back("read as cells in rows, genes in columns: the header looks like gene names (" + examples +
                         (col_names.size() > 3 ? ", ..." : "") +
                         "); if the rows are genes, choose genes in rows (--genes-in-rows)");
}


// The matrix's size checked against max_entries before it is allocated (a 1.3 MB gzip can hold
// 30000 x 20000 zeros).
void check_size(Eigen::Index rows, std::size_t n_cols, const ReadOptions& options) {
    if (static_cast<double>(rows) * static_cast<double>(n_cols) > options.max_entries)  // which are genes: decided later
        throw InputError(options.source + ": " +
                         too_large_message(static_cast<double>(rows), "rows", static_cast<double>(n_cols), "columns"));
}

// Column names: line 1's value fields, or numbers when it is no header.
std::vector<std::string> column_names(const std::vector<std::string>& line1, const TableShape& shape, bool cells_in_rows) {
    if (shape.header) return {line1.begin() + (shape.header_has_corner ? shape.first_value : 0), line1.end()};
    std::vector<std::string> names;
    for (std::size_t c = 0; c < shape.n_cols; ++c) names.push_back((cells_in_rows ? "Gene" : "Cell") + std::to_string(c + 1));
    return names;
}

// What read_rows found besides the values: the value columns kept (text-only ones are skipped
// with a warning) and the first text-only column, a label per row (e.g. 'group').
struct RowsRead {
    std::vector<std::size_t> keep;
    std::pair<std::string, std::vector<std::string>> labels;
};

// Every row into `store` (row names into `row_names`). A value refused at a line 1 judged data
// says that --header yes would read it as names.
RowsRead read_rows(LineReader rows, const TableShape& shape, const ReadOptions& options, char delim,
                                   const std::vector<std::string>& col_names, RowStore& store,
                                   std::vector<std::string>& row_names, std::vector<std::string>& warnings) {
    const std::string& src = options.source;
    std::string_view line;
    long line_no = 0;
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    std::vector<float>& values = store.block();  // the current block of rows, row-major
    ColumnScan scan(shape.n_cols);
    long plain_rows = 0;  // rows read by parse_plain_row: all their fields are numbers
    try {
        while (rows.next(line, line_no)) {
            std::string_view name;
            if (parse_plain_row(line, delim, shape.index_col, shape.n_cols, values, name)) {
                if (shape.index_col) row_names.emplace_back(name);
                ++plain_rows;
                store.row_done();
                continue;
            }
            split_fields(line, delim, fields, storage, src, line_no);
            if (fields.size() != shape.n_fields) throw InputError(fields_error(src, line_no, shape.n_fields, fields.size(), delim, shape.header));
            if (shape.index_col) row_names.emplace_back(fields[0]);
            scan.read(fields, shape.first_value, values, src, line_no);
            store.row_done();
        }
        RowsRead r;
        r.keep = scan.kept(col_names, store.rows(), plain_rows, shape.first_value, src, warnings);
        r.labels = scan.first_text_column(col_names, store.rows(), plain_rows);
        return r;
    } catch (const InputError& e) {
        // Line 1 was judged data, and its value is refused: say how to read it as a header instead.
        if (shape.header || options.header != Presence::detect || std::string(e.what()).find(src + ": line 1,") != 0) throw;
        throw InputError(std::string(e.what()) + " (line 1 was read as data, not a header; if it names the columns, say --header yes)");
    }
}

}  // namespace

CountMatrix read_counts(std::string_view text, const ReadOptions& options) {
    const std::string& src = options.source;
    if (is_gzip(text)) throw InputError(src + ": gzip-compressed; decompress it before parsing");
    check_text(text, src);
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

    LineReader lines(text);
    std::string_view line;
    long line_no = 0;
    if (!lines.next(line, line_no)) throw InputError(src + ": the file is empty");

    CountMatrix m;
    m.cells_in_rows = options.cells_in_rows;
    m.delimiter = options.delimiter ? options.delimiter : detect_delimiter(line);
    const char delim = m.delimiter;

    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    split_fields(line, delim, fields, storage, src, line_no);
    const std::vector<std::string> line1(fields.begin(), fields.end());
    const LineReader after_line1 = lines;

    if (!lines.next(line, line_no))
        throw InputError(src + ": no data rows after the header (line " + std::to_string(line_no) + ")");
    split_fields(line, delim, fields, storage, src, line_no);
    // Header row and name column, from the whole file (one pass over its lines' first fields).
    const LeadingColumns rest = scan_leading_columns(after_line1, delim, line1[0]);
    TableShape shape = decide_shape(line1, fields.size(), rest, options.header, options.row_names, src, line_no, delim);
    m.warnings = std::move(shape.warnings);
    m.has_row_names = shape.index_col;
    m.has_header = shape.header;
    if (shape.index_col && shape.header && shape.header_has_corner) m.corner = line1[0];
    std::vector<std::string> col_names = column_names(line1, shape, options.cells_in_rows);

    // One pass over all rows, from line 1 when it is no header. Counted first, so the matrix is
    // allocated once at its size.
    LineReader rows = shape.header ? after_line1 : LineReader(text);
    const Eigen::Index n_lines = rest.rows + (shape.header ? 0 : 1);
    check_size(n_lines, shape.n_cols, options);
    RowStore store(n_lines, shape.n_cols, options.cells_in_rows);
    std::vector<std::string> row_names;
    RowsRead read = read_rows(rows, shape, options, delim, col_names, store, row_names, m.warnings);
    const std::vector<std::size_t>& keep = read.keep;
    const Eigen::Index n_rows = store.rows();

    std::vector<std::string> kept_names;
    for (std::size_t c : keep) kept_names.push_back(col_names[c]);
    if (shape.header) detect_transposed(m, options, kept_names, row_names, shape.index_col);
    // Cells in rows: a text column is a label per cell (e.g. 'group'); the page colours its cell map by it.
    if (m.cells_in_rows) std::tie(m.labels_name, m.labels) = std::move(read.labels);
    if (!shape.index_col)
        for (Eigen::Index r = 0; r < n_rows; ++r) row_names.push_back((m.cells_in_rows ? "Cell" : "Gene") + std::to_string(r + 1));

    Eigen::MatrixXf counts = store.take();
    drop_columns(counts, keep, shape.n_cols, options.cells_in_rows);
    // Rows of the file become genes (default) or cells (cells_in_rows). Only a file detected as
    // transposed is copied once more.
    if (m.cells_in_rows && !options.cells_in_rows) m.counts = counts.transpose();
    else m.counts = std::move(counts);
    m.genes = std::move(m.cells_in_rows ? kept_names : row_names);
    m.cells = std::move(m.cells_in_rows ? row_names : kept_names);
    m.header_has_corner = shape.header_has_corner;
    warn_duplicates(m.cells, "cell", m.warnings);
    warn_duplicates(m.genes, "gene", m.warnings);
    return m;
}

std::string read_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw InputError("cannot open '" + path + "': " + std::strerror(errno));
    std::string out;
    // Reserve the file's size when it is known (a regular file), so the text is never
    // reallocated while it grows: doubling held up to twice the file at once.
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long size = std::ftell(f);
        if (size > 0) out.reserve(static_cast<std::size_t>(size));
        std::rewind(f);
    }
    char buf[1 << 16];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) throw InputError("cannot read '" + path + "'");
    return out;
}

CountMatrix read_counts_file(const std::string& path, ReadOptions options) {
    if (options.source == "input") options.source = path;
    return read_counts(maybe_gunzip(read_file(path), options.source), options);
}

}  // namespace zimpute
