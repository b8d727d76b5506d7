#include "split.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "rng.hpp"

namespace zimpute {

std::pair<std::vector<Eigen::Index>, std::vector<Eigen::Index>> split_cells(Eigen::Index n, double first_fraction,
                                                                            std::uint64_t seed) {
    if (n < 2) throw std::invalid_argument("splitting needs at least two cells");
    if (!(first_fraction > 0 && first_fraction < 1)) throw std::invalid_argument("split fraction must be in (0, 1)");
    const auto k = static_cast<Eigen::Index>(std::floor(first_fraction * static_cast<double>(n) + 0.5));
    return split_cells_at(n, std::clamp<Eigen::Index>(k, 1, n - 1), seed);
}

std::pair<std::vector<Eigen::Index>, std::vector<Eigen::Index>> split_cells_at(Eigen::Index n, Eigen::Index first,
                                                                               std::uint64_t seed) {
    if (first < 0 || first > n) throw std::invalid_argument("split: part size out of range");
    const std::vector<Eigen::Index> idx = shuffled_cells(n, seed);
    std::vector<Eigen::Index> a(idx.begin(), idx.begin() + first), b(idx.begin() + first, idx.end());
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return {a, b};
}

std::vector<Eigen::Index> shuffled_cells(Eigen::Index n, std::uint64_t seed) {
    std::vector<Eigen::Index> idx(static_cast<std::size_t>(std::max<Eigen::Index>(n, 0)));
    for (Eigen::Index i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
    Rng rng(seed);
    rng.shuffle(idx);
    return idx;
}

CountMatrix subset_cells(const CountMatrix& m, const std::vector<Eigen::Index>& cells) {
    CountMatrix out = m;
    out.counts.resize(m.n_genes(), static_cast<Eigen::Index>(cells.size()));
    out.cells.clear();
    for (std::size_t j = 0; j < cells.size(); ++j) {
        out.counts.col(static_cast<Eigen::Index>(j)) = m.counts.col(cells[j]);
        out.cells.push_back(m.cells[static_cast<std::size_t>(cells[j])]);
    }
    out.warnings.clear();
    return out;
}

}  // namespace zimpute
