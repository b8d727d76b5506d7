#include "table_shape.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include "count_matrix.hpp"

namespace zimpute {
using namespace csv;

namespace {

// Without a header naming it, a column of distinct whole numbers beside counts that repeat is
// read as IDs only in files of at least this many rows: in a handful of cells (a transposed
// file's first gene) distinct counts happen by chance.
constexpr long kMinIdRows = 20;

// What a field is. A value the reader refuses with its own message (empty, a missing-value marker
// such as NA, a decimal comma) is a value, never a name: it must not make a line a header or a
// column a column of names.
enum class Kind { number, refused, text };

}  // namespace

bool missing_marker(std::string_view f) {
    static const char* const kMarkers[] = {"NA", "N/A", "na", "n/a", "NaN", "nan", "NULL", "null", "None", "none", ".", "-", "?", "#N/A"};
    for (const char* m : kMarkers)
        if (f == m) return true;
    return false;
}

namespace {

Kind kind(std::string_view f, double& v) {
    if (parse_number(f, v) == Parsed::number) return Kind::number;
    return f.empty() || missing_marker(f) || looks_like_decimal_comma(f) ? Kind::refused : Kind::text;
}
Kind kind(std::string_view f) {
    double v = 0;
    return kind(f, v);
}

// The name of a column of row names or IDs as tools write it ('gene_id', 'GeneID', 'symbol',
// 'barcode', R's 'X', pandas' 'index', ...): letters and digits only, lower case, compared whole,
// so 'GeneA' is no such name.
bool names_an_id_column(std::string_view name) {
    std::string n;
    for (char ch : name)
        if (std::isalnum(static_cast<unsigned char>(ch))) n += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    static const char* const kNames[] = {
        "gene", "genes", "geneid", "geneids", "genename", "genenames", "genesymbol", "symbol", "symbols", "id", "ids",
        "index", "cell", "cells", "cellid", "cellname", "barcode", "barcodes", "cellbarcode", "feature", "features",
        "featureid", "featurename", "name", "names", "ensembl", "ensemblid", "ensemblgeneid", "entrez", "entrezid",
        "entrezgeneid", "rownames", "rowname", "unnamed0", "obsnames", "varnames"};
    for (const char* k : kNames)
        if (n == k) return true;
    return false;
}

// The field starting at i: a quoted one without its quotes (escapes kept: they make it text
// anyway), else trimmed; i moves past the delimiter after it (npos at the end of the line).
std::string_view next_field(std::string_view line, char delim, std::size_t& i) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::string_view f;
    if (i < line.size() && line[i] == '"') {
        std::size_t j = i + 1;
        while (j < line.size() && !(line[j] == '"' && (j + 1 == line.size() || line[j + 1] != '"')))
            j += line[j] == '"' ? 2 : 1;
        f = line.substr(i + 1, std::min(j, line.size()) - i - 1);
        i = j < line.size() ? line.find(delim, j) : std::string_view::npos;
    } else {
        const std::size_t end = line.find(delim, i);
        f = trim(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
        i = end;
    }
    if (i != std::string_view::npos) ++i;
    return f;
}

// A name's form: runs of letters become 'a', runs of digits '9', the rest stays ("Cell12" ->
// "a9", "AAACCTGAGAAGGCCT-1" -> "a-9", "gene_id" -> "a_a"). Cell names share a form; the
// header of a column of IDs ('gene_id') rarely has theirs.
std::string form(std::string_view name) {
    std::string f;
    for (char ch : name) {
        const unsigned char c = static_cast<unsigned char>(ch);
        const char k = std::isdigit(c) ? '9' : std::isalpha(c) ? 'a' : ch;
        if (f.empty() || f.back() != k || (k != 'a' && k != '9')) f += k;
    }
    return f;
}

// Line 1's first field heads a column of IDs rather than being a cell (or gene) itself: it names
// such a column ('gene_id', 'barcode', ...), or the other names all share one form and it has
// another ('sample' over 'Cell1', 'Cell2', ...). A header of gene symbols ('TP53', 'GAPDH',
// 'MT-CO1') shares no single form; 'Cell1' shares the others' form: a cell.
bool first_name_stands_apart(const std::vector<std::string>& line1) {
    if (line1.size() < 2 || kind(line1[0]) != Kind::text) return false;
    if (names_an_id_column(line1[0])) return true;
    const std::string f = form(line1[0]);
    for (std::size_t c = 1; c < line1.size(); ++c)
        if (form(line1[c]) == f || form(line1[c]) != form(line1[1])) return false;
    return true;
}

// What line 1's value fields say: a header, data, or (throws) cannot be told.
struct HeaderEvidence {
    bool corner_names_ids = false;  // an index column headed 'gene', 'cell', ... (so line 1 names)
    bool empty_corner = false;      // an index column under an empty corner, as R and pandas write it
    bool row_name = false;          // line 1's first field is like the row names below it
    bool no_corner = false;         // line 1 is one field shorter than the rows (R's header)
};

bool decide_header(const std::vector<std::string>& line1, std::size_t first, const HeaderEvidence& e,
                   const std::string& src, std::vector<std::string>& warnings) {
    std::unordered_set<double> seen;
    std::size_t texts = 0, refused = 0;
    bool repeated = false, sequence = true, whole = true;
    double start = 0;
    for (std::size_t c = first; c < line1.size(); ++c) {
        double v = 0;
        const Kind k = kind(line1[c], v);
        texts += k == Kind::text;
        refused += k == Kind::refused;
        if (k != Kind::number) continue;
        repeated = repeated || !seen.insert(v).second;
        whole = whole && v == std::floor(v);
        if (c == first) start = v;
        sequence = sequence && (start == 0 || start == 1) && v == start + static_cast<double>(c - first);
    }
    const std::size_t n = line1.size() - first, numbers = n - texts - refused;
    const auto data = [&](const std::string& why) {
        if (e.no_corner)  // the rows have one field more: line 1 can only be a header
            throw InputError(src + ": line 1 is one field shorter than the rows, as a header without a corner, but holds " + why +
                             "; if it names the columns, say --header yes");
        if (!why.empty())
            warnings.push_back("line 1 holds " + why + ", so it is read as the first row of data, not as a header (the "
                               "columns are numbered instead); if it names the columns, say --header yes");
        return false;
    };
    if (texts > 0 && numbers == 0) return true;  // names (an empty one or an 'NA' among them too)
    if (texts > 0) return data("numbers beside text");
    if (refused > 0) return e.no_corner ? data("no names") : false;  // the reader names the value at line 1
    if (e.corner_names_ids) return true;  // 'gene' over numbered cells
    if (e.empty_corner) {
        if (!(sequence && n >= 3))
            warnings.push_back("line 1 is read as a header of numeric names (an empty corner above the row names, as R and "
                               "pandas write one); if it is the first row of data, say --header no");
        return true;
    }
    if (e.row_name) return data("a row name like those below it and numbers");
    if (!whole) return data("numbers with decimals, which no header has");
    if (sequence && n >= 3) {
        if (!e.no_corner)
            warnings.push_back("line 1 (" + line1[first] + ", " + line1[first + 1] + ", ..." +
                               ") is read as a header of numbered columns; if it is the first row of data, say --header no");
        return true;
    }
    if (repeated) return data("only numbers, some of them twice");
    if (e.no_corner) return data("only numbers");
    throw InputError(src + ": line 1 holds only distinct numbers: it could be a header of numeric names or the first "
                           "row of counts; say --header yes or --header no");
}

}  // namespace

Presence parse_presence(const std::string& value, const std::string& option) {
    if (value == "auto") return Presence::detect;
    if (value == "yes") return Presence::yes;
    if (value == "no") return Presence::no;
    throw std::invalid_argument("--" + option + " must be auto, yes or no, not '" + value + "'");
}

const char* presence_name(Presence p) { return p == Presence::yes ? "yes" : p == Presence::no ? "no" : "auto"; }

LeadingColumns scan_leading_columns(LineReader lines, char delim, std::string_view line1_first) {
    LeadingColumns s;
    const std::string line1_form = kind(line1_first) == Kind::text ? form(line1_first) : std::string();
    std::unordered_set<double> firsts, seconds;
    std::string_view line;
    long n = 0;
    while (lines.next(line, n)) {
        ++s.rows;
        std::size_t i = 0;
        const std::string_view first = next_field(line, delim, i);
        double v = 0;
        const Kind k = kind(first, v);
        const bool integer = k == Kind::number && v == std::floor(v);
        s.first_text += k == Kind::text;
        s.first_integers = s.first_integers && integer;
        if (!line1_form.empty() && k == Kind::text && form(first) == line1_form) ++s.first_like_line1;
        if (s.first_distinct_integers && !(integer && firsts.insert(v).second)) {
            s.first_distinct_integers = false;
            firsts = {};
        }
        if (!s.second_repeats && i != std::string_view::npos && parse_number(next_field(line, delim, i), v) == Parsed::number)
            s.second_repeats = !seconds.insert(v).second;
    }
    return s;
}

TableShape decide_shape(const std::vector<std::string>& line1, std::size_t line2_fields, const LeadingColumns& rest,
                        Presence header, Presence row_names, const std::string& src, long line2_no, char delim) {
    const std::size_t h = line1.size(), k = line2_fields;
    TableShape s;
    HeaderEvidence e;
    // The name column. One field more in the rows than in line 1 is R's header without a corner
    // (so line 1 is a header); otherwise the rows must match line 1.
    if (k == h + 1 && header != Presence::no && row_names != Presence::no) {
        s.index_col = true;
        s.header_has_corner = false;
        e.no_corner = true;
    } else if (k != h) {
        bool names = header == Presence::yes;
        for (const auto& f : line1) names = names || (header == Presence::detect && kind(f) == Kind::text);
        throw InputError(fields_error(src, line2_no, h, k, delim, names));
    } else if (row_names == Presence::yes && h == 1) {
        throw InputError(src + ": --row-names yes, but the file has a single column");
    } else if (row_names != Presence::detect) {
        s.index_col = row_names == Presence::yes;
    } else if (h > 1) {
        const bool empty_corner = header != Presence::no && line1[0].empty();  // R's
        const bool names = 2 * rest.first_text > rest.rows;  // mostly names; NA and the like are no names
        // Whole numbers under a header that names IDs, or distinct ones under a first name of its
        // own form, or (no header to say so) distinct ones beside counts that repeat, in a file
        // long enough that distinct counts are not chance.
        const bool apart = header != Presence::no && first_name_stands_apart(line1);
        const bool ids = rest.rows >= 1 && rest.first_integers &&
                         ((apart && names_an_id_column(line1[0])) || (apart && rest.first_distinct_integers && rest.rows >= 2) ||
                          (kind(line1[0]) == Kind::number && rest.first_distinct_integers && rest.second_repeats &&
                           rest.rows >= kMinIdRows));
        s.index_col = empty_corner || names || ids;
        if (ids && !names && !empty_corner)
            s.warnings.push_back("column 1 ('" + shorten(line1[0]) + "') is read as row names, as IDs: its " +
                                 std::to_string(rest.rows) + " values below line 1 are whole numbers" +
                                 (rest.first_distinct_integers ? ", none twice" : "") + "; if they are counts, say --row-names no");
    }
    s.first_value = s.index_col ? 1 : 0;
    s.n_fields = s.index_col && !s.header_has_corner ? h + 1 : h;
    s.n_cols = s.n_fields - s.first_value;
    // The header: line 1's value fields decide (a line 1 shorter than the rows must be one).
    if (header != Presence::detect) {
        s.header = header == Presence::yes;
    } else {
        e.corner_names_ids = s.index_col && s.header_has_corner && names_an_id_column(line1[0]);
        e.empty_corner = s.index_col && s.header_has_corner && line1[0].empty();
        e.row_name = s.index_col && s.header_has_corner && !e.corner_names_ids && 2 * rest.first_like_line1 > rest.rows;
        s.header = decide_header(line1, s.header_has_corner ? s.first_value : 0, e, src, s.warnings);
    }
    return s;
}

std::string fields_error(const std::string& src, long line_no, std::size_t expected, std::size_t found, char delim,
                         bool header) {
    return src + ": line " + std::to_string(line_no) + ": expected " + std::to_string(expected) +
           (expected == 1 ? " field" : " fields") + (header ? " (as in the header, " : " (as in line 1, ") + describe_delimiter(delim) +
           "-separated), found " + std::to_string(found);
}

}  // namespace zimpute
