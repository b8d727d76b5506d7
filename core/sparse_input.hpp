// The network's input for a batch as the trainer has it: a per-gene constant (the input of a zero
// count) plus, at each cell's non-zero counts, a deviation from it:
//   x(g, k) = zero(g) + value of (g, k) if cell k has a count at gene g, else zero(g).
// The input layer's products then work on the non-zeros only (~40% of entries in the data sets
// measured), instead of on dense genes x batch columns:
//   forward   z_k = W x_k + b = c + sum_e value_e W(:, gene_e),   c = W zero + b (once per batch)
//   backward  dW(:, g) = d x^T(:, g) = zero(g) (d 1) + sum over cells k with a count at g of value d_k
// Why: the input layer was ~18% of an epoch's multiply-adds as dense products, plus the dense
// columns the trainer built for it per batch; most of those multiply-adds were by the constant
// part, which the forward now does once per batch and the backward once per gene.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fast_math.hpp"

namespace zimpute {

/// out(r) = a s(r) + sum_e v(e) w(idx(e) ld + r) for r < R: R accumulators kept in registers
/// across the entries, each entry one broadcast and R multiply-adds.
#if defined(__AVX__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;  // SSE, NEON, wasm SIMD128
#endif

template <typename T, int R>
ZIMPUTE_ALWAYS_INLINE void gather_axpy(const T* __restrict w, Eigen::Index ld, const std::int32_t* __restrict idx,
                                       const T* __restrict v, Eigen::Index n, T a, const T* __restrict s, T* __restrict out) {
    // Accumulators as an array of the target's vectors (GCC and Clang vector extensions), fully
    // unrolled so they stay in registers: with a plain T acc[R] GCC kept them in memory, and with
    // one generic R-lane vector it copied it through memcpy calls; both were 2-3x slower than the
    // dense product instead of faster.
    constexpr int L = kVectorBytes / static_cast<int>(sizeof(T)) < R ? kVectorBytes / static_cast<int>(sizeof(T)) : R;
    constexpr int N = R / L;
    static_assert(R % L == 0, "R must be a multiple of the vector width");
    typedef T Lanes __attribute__((vector_size(sizeof(T) * L)));
    Lanes acc[N];
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) {
        __builtin_memcpy(&acc[i], s + i * L, sizeof(Lanes));
        acc[i] *= a;
    }
    for (Eigen::Index e = 0; e < n; ++e) {
        const T* col = w + static_cast<Eigen::Index>(idx[e]) * ld;
        const T ve = v[e];
#pragma GCC unroll 16
        for (int i = 0; i < N; ++i) {
            Lanes c;
            __builtin_memcpy(&c, col + i * L, sizeof(Lanes));
            acc[i] += ve * c;
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) __builtin_memcpy(out + i * L, &acc[i], sizeof(Lanes));
}

/// gather_axpy over `rows` rows, in chunks as wide as the registers allow: 64 floats are 8 AVX
/// registers; WebAssembly's 16 128-bit registers (V8 keeps one for itself) hold 32 without spills.
template <typename T>
void gather_axpy_rows(const T* w, Eigen::Index ld, const std::int32_t* idx, const T* v, Eigen::Index n, T a, const T* s,
                      T* out, Eigen::Index rows) {
#if defined(__wasm__)
    constexpr int kWide = sizeof(T) == 4 ? 32 : 16;
#else
    constexpr int kWide = sizeof(T) == 4 ? 64 : 32;
#endif
    Eigen::Index r = 0;
    for (; r + kWide <= rows; r += kWide) gather_axpy<T, kWide>(w + r, ld, idx, v, n, a, s + r, out + r);
    for (; r + 8 <= rows; r += 8) gather_axpy<T, 8>(w + r, ld, idx, v, n, a, s + r, out + r);
    for (; r < rows; ++r) gather_axpy<T, 1>(w + r, ld, idx, v, n, a, s + r, out + r);
}

/// Entries of one cell (gene, value) or of one gene (cell, value).
template <typename T>
struct SparseEntries {
    const std::int32_t* index = nullptr;
    const T* value = nullptr;
    Eigen::Index n = 0;
};

/// Whether gene[0..n) is strictly ascending and below `genes`: what SparseInput::set_cell needs.
inline bool genes_ascending_below(const std::int32_t* gene, Eigen::Index n, Eigen::Index genes) {
    std::int32_t prev = -1;
    for (Eigen::Index e = 0; e < n; ++e) {
        if (gene[e] <= prev) return false;
        prev = gene[e];
    }
    return prev < genes;
}

/// Up to max_batch cells' input deviations, each cell in a slot of `genes` entries so cells can be
/// filled in parallel, and the zero-count input they deviate from. Sized once by resize(); filling
/// a cell allocates nothing.
template <typename T>
class SparseInput {
public:
    void resize(Eigen::Index genes, Eigen::Index max_batch) {
        if (genes < 1 || max_batch < 1 || genes > std::numeric_limits<std::int32_t>::max() / max_batch)
            throw std::length_error("SparseInput: " + std::to_string(genes) + " genes x " + std::to_string(max_batch) +
                                    " cells do not fit 32-bit entry indices");
        genes_ = genes;
        const auto n = static_cast<std::size_t>(genes * max_batch);
        value_.resize(n);
        cells_.assign(static_cast<std::size_t>(max_batch), SparseEntries<T>{});
        zero_.assign(static_cast<std::size_t>(genes), T(0));
        all_genes_.resize(static_cast<std::size_t>(genes));
        for (Eigen::Index g = 0; g < genes; ++g) all_genes_[static_cast<std::size_t>(g)] = static_cast<std::int32_t>(g);
    }
    Eigen::Index genes() const { return genes_; }
    Eigen::Index max_batch() const { return static_cast<Eigen::Index>(cells_.size()); }

    /// The input of a zero count, per gene (genes() entries).
    const T* zero() const { return zero_.data(); }
    template <typename V>
    void set_zero(const V& zero) {
        if (static_cast<Eigen::Index>(zero.size()) != genes_) throw std::logic_error("SparseInput: zero input has the wrong length");
        for (Eigen::Index g = 0; g < genes_; ++g) zero_[static_cast<std::size_t>(g)] = static_cast<T>(zero[g]);
    }
    /// 0, 1, ..., genes() - 1: with zero() as values, the entries of the constant part.
    const std::int32_t* all_genes() const { return all_genes_.data(); }

    /// Cell k gets n entries at these genes, which must be strictly ascending and below genes()
    /// (genes_ascending_below() checks it) and stay valid while the batch is used: they are not
    /// copied (a copy with that check was 2% of an epoch). Returns where their n values go, for
    /// the caller to write.
    T* set_cell(Eigen::Index k, const std::int32_t* gene, Eigen::Index n) {
        if (k < 0 || k >= max_batch() || n < 0 || n > genes_)
            throw std::logic_error("SparseInput: cell " + std::to_string(k) + " with " + std::to_string(n) +
                                   " entries does not fit");
        cells_[static_cast<std::size_t>(k)] = SparseEntries<T>{gene, value_.data() + static_cast<std::size_t>(k * genes_), n};
        return value_.data() + static_cast<std::size_t>(k * genes_);
    }
    const SparseEntries<T>& cell(Eigen::Index k) const { return cells_[static_cast<std::size_t>(k)]; }

    /// Cells [0, b) as dense columns (genes() x b, column-major).
    void to_dense(Eigen::Index b, T* out) const {
        for (Eigen::Index k = 0; k < b; ++k) {
            T* col = out + k * genes_;
            std::copy(zero_.begin(), zero_.end(), col);
            const SparseEntries<T>& c = cell(k);
            for (Eigen::Index e = 0; e < c.n; ++e) col[c.index[e]] += c.value[e];
        }
    }

private:
    Eigen::Index genes_ = 0;
    std::vector<T> value_;
    std::vector<SparseEntries<T>> cells_;
    std::vector<T> zero_;
    std::vector<std::int32_t> all_genes_;
};

/// The entries of a SparseInput's first b cells gene by gene, cells ascending within a gene: the
/// input layer's weight gradient is written one gene column at a time from them.
template <typename T>
class ByGene {
public:
    /// A counting sort. Its second pass writes to every gene's bucket at once; walked over all
    /// genes, those buckets spread over more than L1, so it runs over blocks of genes (each cell's
    /// genes ascend, so a cell's entries in a block are one run).
    void build(const SparseInput<T>& x, Eigen::Index b) {
        const Eigen::Index genes = x.genes();
        if (cell_.size() != static_cast<std::size_t>(genes * x.max_batch())) {  // once per input shape
            start_.resize(static_cast<std::size_t>(genes) + 1);
            cell_.resize(static_cast<std::size_t>(genes * x.max_batch()));
            value_.resize(cell_.size());
            cursor_.resize(static_cast<std::size_t>(x.max_batch()));
        }
        std::int32_t* start = start_.data();
        std::fill(start, start + genes + 1, 0);
        for (Eigen::Index k = 0; k < b; ++k) {
            const SparseEntries<T>& c = x.cell(k);
            for (Eigen::Index e = 0; e < c.n; ++e) ++start[c.index[e] + 1];
        }
        for (Eigen::Index g = 0; g < genes; ++g) start[g + 1] += start[g];
        // start[g] serves as gene g's write position and ends as gene g + 1's start; shifted back
        // afterwards.
        std::fill(cursor_.begin(), cursor_.begin() + b, Eigen::Index(0));
        for (Eigen::Index g1 = 0; g1 < genes;) {
            g1 = std::min(genes, g1 + kBlock);
            for (Eigen::Index k = 0; k < b; ++k) {
                const SparseEntries<T>& c = x.cell(k);
                Eigen::Index e = cursor_[static_cast<std::size_t>(k)];
                for (; e < c.n && c.index[e] < g1; ++e) {
                    const std::int32_t at = start[c.index[e]]++;
                    cell_[static_cast<std::size_t>(at)] = static_cast<std::int32_t>(k);
                    value_[static_cast<std::size_t>(at)] = c.value[e];
                }
                cursor_[static_cast<std::size_t>(k)] = e;
            }
        }
        for (Eigen::Index g = genes; g > 0; --g) start[g] = start[g - 1];
        start[0] = 0;
    }
    /// Gene g's entries: the cells with a deviation at g and their values.
    SparseEntries<T> gene(Eigen::Index g) const {
        const std::int32_t s = start_[static_cast<std::size_t>(g)];
        return SparseEntries<T>{cell_.data() + s, value_.data() + s, start_[static_cast<std::size_t>(g) + 1] - s};
    }

private:
    static constexpr Eigen::Index kBlock = 128;  // genes per block: ~13 KB of buckets at 40% non-zeros
    std::vector<std::int32_t> start_, cell_;
    std::vector<T> value_;
    std::vector<Eigen::Index> cursor_;
};

}  // namespace zimpute
