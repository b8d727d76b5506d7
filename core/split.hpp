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

/// The cells 0 .. n-1 in the seeded random order both splits draw from: the course's split
/// (split_cells) and the trainer's validation hold-out, which takes the first cells of it and
/// trains on the rest in this order (its epochs shuffle from it).
std::vector<Eigen::Index> shuffled_cells(Eigen::Index n, std::uint64_t seed);

/// The same with the first part's size given: `first` of the n cells (0 <= first <= n) from
/// shuffled_cells, the rest in the second part, each in increasing order.
std::pair<std::vector<Eigen::Index>, std::vector<Eigen::Index>> split_cells_at(Eigen::Index n, Eigen::Index first,
                                                                               std::uint64_t seed);

/// The given cells (columns) of a matrix with their labels and the same file layout.
CountMatrix subset_cells(const CountMatrix& m, const std::vector<Eigen::Index>& cells);

}  // namespace zimpute
