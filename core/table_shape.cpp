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

// A number as the reader will take it; a decimal comma ("1,5") counts as one, since the reader
// reports it as such rather than as a name.
bool is_number(std::string_view f, double& v) {
    return parse_number(f, v) == Parsed::number || looks_like_decimal_comma(f);
}
bool is_number(std::string_view f) {
    double v = 0;
    return is_number(f, v);
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

// Line 1's first field names a column of IDs rather than a cell (or gene): the other names all
// share one form and it has another ("gene_id" over "Cell1", "Cell2"...), or it says what it
// holds ("id", "gene", "cell", "barcode", ...) in a form none of the others has. A header of gene
// symbols ("TP53", "GAPDH", "MT-CO1") shares no single form and names no such thing.
bool first_name_stands_apart(const std::vector<std::string>& line1) {
    if (line1.size() < 2 || is_number(line1[0])) return false;
    const std::string f = form(line1[0]);
    bool shared = true, seen = false;
    for (std::size_t c = 1; c < line1.size(); ++c) {
        const std::string g = form(line1[c]);
        shared = shared && g == form(line1[1]);
        seen = seen || g == f;
    }
    if (seen) return false;
    if (shared) return true;
    std::string lower;
    for (char ch : line1[0]) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const char* word : {"id", "gene", "cell", "barcode", "feature", "symbol", "name", "index", "entrez", "ensembl"})
        if (lower.find(word) != std::string::npos) return true;
    return false;
}

// Whether line 1's value fields are column names. Throws when it cannot be told. `row_name`: line
// 1's first field has the form of most row names below it ("GeneA" over "GeneB", "GeneC"...).
bool decide_header(const std::vector<std::string>& line1, std::size_t first, bool row_name, const std::string& src,
                   std::vector<std::string>& warnings) {
    std::unordered_set<double> seen;
    bool repeated = false, sequence = true;
    double start = 0;
    for (std::size_t c = first; c < line1.size(); ++c) {
        double v = 0;
        if (!is_number(line1[c], v)) return true;  // a name
        repeated = repeated || !seen.insert(v).second;
        if (c == first) start = v;
        sequence = sequence && (start == 0 || start == 1) && v == start + static_cast<double>(c - first);
    }
    const std::size_t n = line1.size() - first;
    if (sequence && n >= 3) return true;  // 0,1,2,... or 1,2,3,...: pandas' and R's default names
    if (repeated || row_name) {
        warnings.push_back(std::string("line 1 holds ") + (row_name ? "a row name like those below it and numbers" : "only numbers, some of them twice") +
                           ", so it is read as the first row of data, not as a header (the columns are numbered "
                           "instead); if it names the columns, say --header yes");
        return false;
    }
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
    const std::string line1_form = line1_first.empty() || is_number(line1_first) ? std::string() : form(line1_first);
    std::unordered_set<double> firsts, seconds;
    std::string_view line;
    long n = 0;
    while (lines.next(line, n)) {
        ++s.rows;
        std::size_t i = 0;
        const std::string_view first = next_field(line, delim, i);
        double v = 0;
        const bool number = is_number(first, v);
        if (!number && !first.empty()) ++s.first_text;
        if (!line1_form.empty() && !number && form(first) == line1_form) ++s.first_like_line1;
        if (s.first_distinct_integers && !(number && v == std::floor(v) && firsts.insert(v).second)) {
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
    // The name column. One field more in the rows than in line 1 is R's header without a corner
    // (so line 1 is a header); otherwise the rows must match line 1.
    if (k == h + 1 && header != Presence::no && row_names != Presence::no) {
        s.index_col = true;
        s.header_has_corner = false;
    } else if (k != h) {
        throw InputError(fields_error(src, line2_no, h, k, delim, header != Presence::no));
    } else if (row_names != Presence::detect) {
        s.index_col = row_names == Presence::yes && h > 1;
    } else if (h > 1) {
        const bool text = 2 * rest.first_text > rest.rows;  // mostly names: a stray 'NA' is not
        const bool ids = rest.first_distinct_integers && rest.rows >= 2 &&
                         (first_name_stands_apart(line1) || (rest.second_repeats && rest.rows >= kMinIdRows));
        s.index_col = (header != Presence::no && line1[0].empty()) || text || ids;
        if (ids && !text && !line1[0].empty())
            s.warnings.push_back("column 1 ('" + shorten(line1[0]) + "') is read as row names: its " + std::to_string(rest.rows) +
                                 " values are distinct whole numbers, like IDs, unlike the counts beside them; if they are "
                                 "counts, say --row-names no");
    }
    s.first_value = s.index_col ? 1 : 0;
    s.n_fields = s.index_col && !s.header_has_corner ? h + 1 : h;
    s.n_cols = s.n_fields - s.first_value;
    // The header: a line 1 shorter than the rows is one; otherwise its value fields decide.
    if (header != Presence::detect) s.header = header == Presence::yes;
    else if (s.header_has_corner)
        s.header = decide_header(line1, s.first_value, s.index_col && 2 * rest.first_like_line1 > rest.rows, src, s.warnings);
    return s;
}

std::string fields_error(const std::string& src, long line_no, std::size_t expected, std::size_t found, char delim,
                         bool header) {
    return src + ": line " + std::to_string(line_no) + ": expected " + std::to_string(expected) +
           (expected == 1 ? " field" : " fields") + (header ? " (as in the header, " : " (as in line 1, ") + describe_delimiter(delim) +
           "-separated), found " + std::to_string(found);
}

}  // namespace zimpute
