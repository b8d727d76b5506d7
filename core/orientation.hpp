// Orientation detection: whether a file read as genes in rows is, by its labels, clearly
// transposed (cells in rows). Conservative on purpose: reading a file the wrong way round is the
// failure this guards against, so anything ambiguous stays genes in rows.
#pragma once

#include <string>
#include <vector>

namespace zimpute {

/// True if a file read as genes in rows is, by its labels, cells in rows. `header` are the value
/// columns' labels, `row_names` the index column's (used only when `has_row_names`). Transposed
/// means: >= 90% of the header
/// looks like gene names (human or mouse symbols, Ensembl ids, Gene12), none like cells (Cell3,
/// barcodes), the header is not a numbered series (S1, S2, ...), and the row names, if any, are
/// mostly not gene names.
bool looks_transposed(const std::vector<std::string>& header, const std::vector<std::string>& row_names,
                      bool has_row_names);

}  // namespace zimpute
