// A batch's counts as the loss kernel reads them: per cell only its non-zero counts, each with
// its gene and lgamma(y + 1), whole counts 1..kSmallCount first and the rest after, so each
// count case is one contiguous, vectorizable run (zinb_kernel.hpp).
//
// Why not dense columns: the loss reads y only where y > 0 (the zero case does not depend on y),
// and the trainer's data are sparse already. Scattering them into dense columns (two fills of
// genes x batch per batch) and finding the non-zeros again per cell (a scalar compare per gene)
// was ~8% of a native epoch; filling from the data's non-zeros costs one pass over those.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace zimpute::kernel {

/// Whole counts up to this go to small_count_terms (zinb_kernel.hpp); it is unrolled for 6.
constexpr int kSmallCount = 6;

/// Counts below this are zeros to the loss (zinb_loss.hpp: "y > 0 (y >= 1e-8)").
template <typename T>
constexpr T kZeroCount = T(1e-8);

/// One cell's non-zero counts: entry k is gene[k] with count y[k] and lgy1[k] = lgamma(y[k] + 1);
/// entries [0, n_small) are whole counts 1..kSmallCount, entries [n_small, n) any other y > 0.
template <typename T>
struct NonZeros {
    const std::int32_t* gene = nullptr;
    const T* y = nullptr;
    const T* lgy1 = nullptr;
    Eigen::Index n_small = 0, n = 0;
};

/// Non-zero counts of up to max_batch cells, each in a slot of `genes` entries so cells can be
/// filled in parallel. Sized once by resize(); filling a cell allocates nothing.
template <typename T>
class CountBatch {
public:
    void resize(Eigen::Index genes, Eigen::Index max_batch) {
        genes_ = genes;
        const auto n = static_cast<std::size_t>(genes * max_batch);
        gene_.resize(n);
        y_.resize(n);
        lgy1_.resize(n);
        cells_.assign(static_cast<std::size_t>(max_batch), NonZeros<T>{});
    }
    Eigen::Index genes() const { return genes_; }
    Eigen::Index max_batch() const { return static_cast<Eigen::Index>(cells_.size()); }
    const NonZeros<T>& cell(Eigen::Index k) const { return cells_[static_cast<std::size_t>(k)]; }

    /// Cell k from nnz (gene, count) pairs in any order, genes distinct and < genes();
    /// lgamma1(y) gives lgamma(y + 1). Counts below kZeroCount are left out (zeros to the loss).
    template <typename Lgamma1>
    void set_cell(Eigen::Index k, const std::int32_t* gene, const T* count, Eigen::Index nnz, Lgamma1&& lgamma1) {
        Slot s = slot(k, nnz);
        for (Eigen::Index e = 0; e < nnz; ++e)
            if (count[e] >= kZeroCount<T>) s.put(gene[e], count[e], lgamma1(count[e]));
        finish(k, s);
    }

    /// Cell k from dense columns: y and lgy1 = lgamma(y + 1), genes() entries each.
    void set_dense(Eigen::Index k, const T* y, const T* lgy1) {
        Eigen::Index nnz = 0;
        for (Eigen::Index i = 0; i < genes_; ++i) nnz += y[i] >= kZeroCount<T>;
        Slot s = slot(k, nnz);
        for (Eigen::Index i = 0; i < genes_; ++i)
            if (y[i] >= kZeroCount<T>) s.put(static_cast<std::int32_t>(i), y[i], lgy1[i]);
        finish(k, s);
    }

private:
    // Small counts fill the slot from its front, the others from position nnz down, so with no
    // count left out the two runs meet and nothing moves. The position is a select, not a
    // branch: small and large counts alternate at random.
    struct Slot {
        std::int32_t* gene;
        T* y;
        T* lgy1;
        Eigen::Index small, back, end;
        void put(std::int32_t g, T v, T lg) {
            const bool is_small = (v <= T(kSmallCount)) & (v == std::floor(v));
            const Eigen::Index at = is_small ? small : back - 1;
            gene[at] = g, y[at] = v, lgy1[at] = lg;
            small += is_small;
            back -= !is_small;
        }
    };
    Slot slot(Eigen::Index k, Eigen::Index nnz) {
        if (k < 0 || k >= max_batch() || nnz > genes_)
            throw std::logic_error("CountBatch: cell " + std::to_string(k) + " with " + std::to_string(nnz) +
                                   " counts does not fit");
        const auto off = static_cast<std::size_t>(k * genes_);
        return Slot{gene_.data() + off, y_.data() + off, lgy1_.data() + off, 0, nnz, nnz};
    }
    void finish(Eigen::Index k, const Slot& s) {
        const Eigen::Index large = s.end - s.back;
        if (s.back != s.small)  // counts were left out: move the large run down behind the small one
            for (Eigen::Index e = 0; e < large; ++e) {
                s.gene[s.small + e] = s.gene[s.back + e];
                s.y[s.small + e] = s.y[s.back + e];
                s.lgy1[s.small + e] = s.lgy1[s.back + e];
            }
        cells_[static_cast<std::size_t>(k)] = NonZeros<T>{s.gene, s.y, s.lgy1, s.small, s.small + large};
    }

    Eigen::Index genes_ = 0;
    std::vector<std::int32_t> gene_;
    std::vector<T> y_, lgy1_;
    std::vector<NonZeros<T>> cells_;
};

}  // namespace zimpute::kernel
