// The course's split of cells into a test and a validation set (7:3 by default), seeded.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "count_matrix.hpp"

namespace zimpute {

/// Cell indices of the two parts, each in increasing order. `first_fraction` of the cells
/// (rounded) go to the first part; both parts get at least one cell when n >= 2.
std::pair<std::vector<Eigen::Index>, std::vector<Eigen::Index>> split_cells(Eigen::Index n, double first_fraction,
                                                                            std::uint64_t seed);

/// The same with the first part's size given: `first` of the n cells (0 <= first <= n) in a
/// seeded random draw, the rest in the second part, each in increasing order. split_cells and
/// the trainer's validation hold-out share it.
std::pair<std::vector<Eigen::Index>, std::vector<Eigen::Index>> split_cells_at(Eigen::Index n, Eigen::Index first,
                                                                               std::uint64_t seed);

/// The given cells (columns) of a matrix with their labels and the same file layout.
CountMatrix subset_cells(const CountMatrix& m, const std::vector<Eigen::Index>& cells);

}  // namespace zimpute
