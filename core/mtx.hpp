// 10x Genomics / MatrixMarket input: matrix.mtx (coordinate format, genes x cells, 1-based) with
// features.tsv (or genes.tsv) naming the rows and barcodes.tsv naming the columns.
#pragma once

#include <string>
#include <string_view>

#include "count_matrix.hpp"

namespace zimpute {

/// Largest matrix (entries) held densely: about 6 GB of floats natively, 600 MB in wasm, where
/// memory ends at 4 GB and training holds several matrices of this size. Checked against the
/// size an MTX header declares, before anything is allocated.
#ifdef __EMSCRIPTEN__
constexpr double kMaxDenseEntries = 1.5e8;
#else
constexpr double kMaxDenseEntries = 1.5e9;
#endif

/// Reads the trio into genes x cells with gene names (features' second column, else the first)
/// and barcodes; the result is written as a CSV with a gene column. Throws InputError naming the
/// file and line for anything malformed, for entries outside the declared shape, for name files
/// whose line count differs from the shape, and for a declared shape too large to hold.
CountMatrix read_mtx(std::string_view mtx, std::string_view features, std::string_view barcodes,
                     const std::string& mtx_name = "matrix.mtx", const std::string& features_name = "features.tsv",
                     const std::string& barcodes_name = "barcodes.tsv");

}  // namespace zimpute
