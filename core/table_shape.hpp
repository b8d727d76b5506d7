// The shape of a delimited count file: whether line 1 is a header row and whether the first column
// holds row names. Both are decided from the whole file's structure, never from one row's values
// (issue 17, rule 1): one 'NA' in row 1 must not turn a column of counts into gene names, a file
// without a header must not lose its first gene into the cell names, and whole-number gene IDs
// under a 'gene_id' header must not become a cell. What the structure cannot settle is refused
// with the option that settles it (--header, --row-names); a decision the user may not expect is
// explained in a warning that names the option to override it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "csv_fields.hpp"

namespace zimpute {

/// "NA", "N/A", "NaN", "NULL", "None", ".", "-", "?", "#N/A" and the like: a missing value, never a
/// name (it does not make a column of names or labels, or a line a header).
bool missing_marker(std::string_view field);

/// A reading choice: decided from the file (detect) or given by the user.
enum class Presence { detect, yes, no };

/// "auto" -> detect, "yes", "no"; throws std::invalid_argument naming `option` for anything else.
Presence parse_presence(const std::string& value, const std::string& option);
/// "auto", "yes" or "no".
const char* presence_name(Presence p);

/// What one pass over the data lines after line 1 found in the first two columns: evidence about
/// the first column that no single row gives.
struct LeadingColumns {
    long rows = 0;                         ///< non-blank lines after line 1
    long first_text = 0;                   ///< of them, first fields that are text (not numbers)
    bool first_integers = true;            ///< every first field a whole number
    bool first_distinct_integers = true;   ///< and none twice
    bool second_repeats = false;           ///< a number occurs twice in the second column
    long first_like_line1 = 0;             ///< first fields of the same form as line 1's ("GeneB" as "GeneA")
};

/// Scans the lines left in `lines` (a copy: the caller's position is kept); `line1_first` is line
/// 1's first field.
LeadingColumns scan_leading_columns(csv::LineReader lines, char delim, std::string_view line1_first = {});

/// Where a row's values are, and whether line 1 is a header.
struct TableShape {
    bool header = true;             ///< line 1 names the columns (else it is the first data row)
    bool index_col = false;         ///< the first field of each row is its name
    bool header_has_corner = true;  ///< the header names the corner above the index column
    std::size_t first_value = 0;    ///< fields before the first value
    std::size_t n_fields = 0;       ///< fields in every data row
    std::size_t n_cols = 0;         ///< value columns
    std::vector<std::string> warnings;  ///< decisions worth telling, each naming its option
};

/// Decides the shape from line 1's fields, line 2's field count and the scan of lines 2.. (the
/// options force either choice). Throws InputError for rows whose field count does not fit, and
/// for a line 1 of distinct numbers that could be a header or data.
TableShape decide_shape(const std::vector<std::string>& line1, std::size_t line2_fields, const LeadingColumns& rest,
                        Presence header, Presence row_names, const std::string& src, long line2_no, char delim);

/// "<src>: line N: expected E fields (as in the header, comma-separated), found F" ("as in line 1"
/// when line 1 is no header).
std::string fields_error(const std::string& src, long line_no, std::size_t expected, std::size_t found, char delim,
                         bool header = true);

}  // namespace zimpute
