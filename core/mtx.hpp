// 10x Genomics / MatrixMarket input: matrix.mtx (coordinate format, genes x cells, 1-based) with
// features.tsv (or genes.tsv) naming the rows and barcodes.tsv naming the columns.
#pragma once

#include <string>
#include <string_view>

#include "count_matrix.hpp"

namespace zimpute {

/// Reads the trio into genes x cells with gene names (features' second column, else the first)
/// and barcodes; the result is written as a CSV with a gene column. Throws InputError naming the
/// file and line for anything malformed, for entries outside the declared shape, for name files
/// whose line count differs from the shape, and for a declared shape of more than `max_entries`
/// (ReadOptions::max_entries), checked before anything is allocated.
CountMatrix read_mtx(std::string_view mtx, std::string_view features, std::string_view barcodes,
                     const std::string& mtx_name = "matrix.mtx", const std::string& features_name = "features.tsv",
                     const std::string& barcodes_name = "barcodes.tsv", double max_entries = ReadOptions{}.max_entries);

}  // namespace zimpute
