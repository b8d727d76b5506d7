// Delimited text, lexically: lines, fields (with quotes), numbers, the delimiter. The count
// matrix reader (count_matrix.cpp) builds on these; every message names the source, line and
// column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zimpute::csv {

/// s without leading and trailing spaces and carriage returns.
std::string_view trim(std::string_view s);
/// s cut to 40 characters ("..." at the end) for messages.
std::string shorten(std::string_view s);

/// Walks the text line by line without copying it; line numbers are 1-based physical lines.
class LineReader {
public:
    explicit LineReader(std::string_view text) : text_(text) {}
    /// Next non-blank line; false at the end.
    bool next(std::string_view& line, long& number) {
        while (pos_ < text_.size()) {
            const std::size_t end = text_.find('\n', pos_);
            const std::size_t stop = end == std::string_view::npos ? text_.size() : end;
            std::string_view l = text_.substr(pos_, stop - pos_);
            pos_ = stop + 1;
            ++line_;
            if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
            if (trim(l).empty()) continue;
            line = l;
            number = line_;
            return true;
        }
        return false;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    long line_ = 0;
};

/// Splits one line into fields. Quoted fields may hold the delimiter and "" escapes; their
/// unescaped text goes to `storage` (reserved up front so the views stay valid). Throws
/// InputError (count_matrix.hpp) for an unterminated quote or text after a closing quote.
void split_fields(std::string_view line, char delim, std::vector<std::string_view>& fields,
                  std::vector<std::string>& storage, const std::string& source, long line_no);

enum class Parsed { number, not_a_number };

/// Parses a decimal number. The digits-only fast path covers count files; anything else goes to
/// strtod on a small copy (fields are not NUL-terminated). Hex and partial parses are rejected.
Parsed parse_number(std::string_view s, double& out);

/// The common data row: an optional row name (unquoted, not starting with a space), then n_cols
/// plain whole numbers (1-18 digits, nothing around them), separated by delim and nothing after.
/// Appends the numbers to values, sets name and returns true; on anything else appends nothing and
/// returns false, and the line takes the general path (split_fields, parse_number), which gives
/// the same values for such a row and makes every error message. Splitting into fields and then
/// parsing each was most of the parse time (30 ns a field natively).
bool parse_plain_row(std::string_view line, char delim, bool row_name, std::size_t n_cols,
                     std::vector<float>& values, std::string_view& name);

/// "1,5" in a semicolon-separated file: a decimal comma (European spreadsheets). It must not be
/// mistaken for a row name, and the error should say what it is.
bool looks_like_decimal_comma(std::string_view s);

/// ',', '\t' or ';': the one occurring most often outside quotes in the header (',' if none).
char detect_delimiter(std::string_view header);
/// "comma", "tab" or "semicolon", for messages.
std::string describe_delimiter(char d);

}  // namespace zimpute::csv
