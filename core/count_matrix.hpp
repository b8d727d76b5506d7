// Count matrix reading: delimited text in, a genes x cells float matrix out, with what the writer
// (count_writer.hpp) needs to give results the input's own labels, delimiter and orientation.
#pragma once

#include <Eigen/Core>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "table_shape.hpp"

namespace zimpute {

/// Bad input: the message names the source, line and column and what was found.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ReadOptions {
    /// Cells are rows and genes are columns (transposed on read). Default: genes in rows, as the
    /// course's test_data.csv and DCA.
    bool cells_in_rows = false;
    /// With cells_in_rows false: read the file as cells in rows after all when its labels clearly
    /// say so (a header of gene names, no cell-like names), with a warning explaining why. False
    /// forces genes in rows.
    bool detect_orientation = true;
    /// Whether line 1 is a header row and whether the first column holds row names: detected
    /// from the whole file (table_shape.hpp) unless given.
    Presence header = Presence::detect;
    Presence row_names = Presence::detect;
    /// Field delimiter; 0 detects it from the header line among ',', '\t' and ';'.
    char delimiter = 0;
    /// Name of the input used in messages (a file name).
    std::string source = "input";
    /// The largest genes x cells matrix to hold (dense floats: 1.5e9 is 6 GB). A front end with
    /// less memory (the browser's 4 GB, of which training needs several such matrices) sets its
    /// own; a file declaring more is refused with its size before anything is allocated.
    double max_entries = 1.5e9;
};

/// How a matrix is laid out as text: its labels, delimiter and orientation. The writer takes a
/// layout and values of its shape (a result, or the latent with its units in place of genes).
struct TableLayout {
    std::vector<std::string> genes;  ///< gene names; generated "Gene1.." when the file has none
    std::vector<std::string> cells;  ///< cell names from the header (or from the index column if cells are rows)
    bool has_row_names = false;      ///< the file had an index column (gene or cell names)
    std::string corner;              ///< text of the header's first cell when there is an index column
    bool header_has_corner = true;   ///< false when the header has one field less than the rows
    bool has_header = true;          ///< false: no header row, the columns are numbered (Cell1.. or Gene1..)
    bool cells_in_rows = false;      ///< orientation of the file
    char delimiter = ',';

    /// Whether the file named its genes (a header of genes, or an index column of them), or
    /// they are the generated Gene1... Matching a truth or a model by name needs real names.
    bool genes_named() const { return cells_in_rows ? has_header : has_row_names; }
    bool cells_named() const { return cells_in_rows ? has_row_names : has_header; }
};

/// A count matrix with what is needed to write results in the input's own layout.
struct CountMatrix : TableLayout {
    Eigen::MatrixXf counts;             ///< genes x cells, column-major (a batch of cells is a block of columns)
    std::vector<std::string> warnings;  ///< skipped metadata columns, non-integer values, duplicates
    /// A file of cells in rows with a column of text only (skipped with a warning, e.g. 'group'):
    /// the first such column's values, one per cell, and its name. Empty otherwise.
    std::vector<std::string> labels;
    std::string labels_name;

    Eigen::Index n_genes() const { return counts.rows(); }
    Eigen::Index n_cells() const { return counts.cols(); }
};

/// Parses delimited text. Accepts a UTF-8 BOM, CRLF, quoted names, an index column (named,
/// R-style empty corner, or absent from the header) and skips non-numeric metadata columns with a
/// warning. Throws InputError for ragged rows, non-numeric, negative or non-finite values, and
/// empty input.
CountMatrix read_counts(std::string_view text, const ReadOptions& options = {});

/// Reads a whole file, decompresses it if it is gzip, and parses it (source defaults to the path).
CountMatrix read_counts_file(const std::string& path, ReadOptions options = {});

/// "<a> <what_a> x <b> <what_b>, <GB> GB as dense floats, more than zimpute holds here: select
/// genes or cells first": the message for a matrix over ReadOptions::max_entries (CSV and MTX).
std::string too_large_message(double a, const char* what_a, double b, const char* what_b);

/// The largest count the model takes. Beyond it the size factors, mu (bounded at 1e6 times the
/// size factor) and the loss could leave float range, and outputs would hold inf; read and UMI
/// counts are far below it.
constexpr double kMaxModelCount = 1e9;
/// Throws InputError naming the largest entry when it is above kMaxModelCount (before any training or
/// imputation: finite in, finite out).
void check_modelable(const CountMatrix& m);

/// Throws InputError naming what `text` is when it is not UTF-8/ASCII text with LF or CRLF line
/// ends: UTF-16, CR-only line ends, an HDF5 file, a ZIP archive, or binary (a zero byte).
void check_text(std::string_view text, const std::string& src);

/// Appends "duplicate <what> name 'X' (first duplicate shown)" to `warnings` when a name repeats.
void warn_duplicates(const std::vector<std::string>& names, const char* what, std::vector<std::string>& warnings);

/// The position in `available` of each of `wanted`, by name; -1 where there is none. A name that
/// repeats matches by occurrence (its k-th time in `wanted` goes to its k-th in `available`), so
/// a file matched against itself maps every row to itself, duplicates included.
std::vector<Eigen::Index> match_by_name(const std::vector<std::string>& wanted, const std::vector<std::string>& available);

/// Reads a whole file into a string; throws InputError naming the path if it cannot.
std::string read_file(const std::string& path);

}  // namespace zimpute
