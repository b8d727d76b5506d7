// The reader's destination: parsed rows go into the final genes x cells matrix a block at a time
// (count_matrix.cpp).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <vector>

namespace zimpute {

// The parsed numbers go into the final matrix a block of rows at a time, so a file is never held
// twice as floats: a row-major copy and the matrix were the reader's peak (2 x 76 MB for 10k x 2k)
// and, in wasm, left a hole that later allocations fragmented. The file's rows become matrix rows
// (genes in rows, the default) or columns (cells in rows, declared); the rare rest (skipped
// columns, a file detected as transposed) is rearranged after reading.
class RowStore {
public:
    RowStore(Eigen::Index rows, std::size_t n_cols, bool rows_as_columns)
        : n_cols_(n_cols), rows_as_columns_(rows_as_columns) {
        const auto c = static_cast<Eigen::Index>(n_cols);
        if (rows_as_columns) matrix_.resize(c, rows);
        else matrix_.resize(rows, c);
        block_.reserve(kBlock * n_cols);
    }
    /// Where a row's values are appended; call row_done() after each row.
    std::vector<float>& block() { return block_; }
    void row_done() {
        ++rows_;
        if (block_.size() == kBlock * n_cols_) flush();
    }
    /// Rows read so far.
    Eigen::Index rows() const { return rows_; }
    /// The matrix of the rows read: rows x n_cols, or n_cols x rows with rows_as_columns.
    Eigen::MatrixXf take() {
        flush();
        if (stored_ != allocated()) resize_rows(stored_);  // only if the row count was off
        return std::move(matrix_);
    }

private:
    static constexpr std::size_t kBlock = 16;  // rows; a block's transpose stays in cache

    Eigen::Index allocated() const { return rows_as_columns_ ? matrix_.cols() : matrix_.rows(); }
    void resize_rows(Eigen::Index rows) {
        if (rows_as_columns_) matrix_.conservativeResize(Eigen::NoChange, rows);
        else matrix_.conservativeResize(rows, Eigen::NoChange);
    }
    void flush() {
        const auto nb = static_cast<Eigen::Index>(block_.size() / (n_cols_ ? n_cols_ : 1));
        if (nb == 0) return;
        if (stored_ + nb > allocated()) resize_rows(stored_ + nb);
        const auto c = static_cast<Eigen::Index>(n_cols_);
        const float* b = block_.data();
        if (rows_as_columns_) {
            std::copy(b, b + nb * c, matrix_.col(stored_).data());  // consecutive columns
        } else {
            for (Eigen::Index j = 0; j < c; ++j) {
                float* col = matrix_.col(j).data() + stored_;
                for (Eigen::Index i = 0; i < nb; ++i) col[i] = b[i * c + j];
            }
        }
        stored_ += nb;
        block_.clear();
    }

    std::size_t n_cols_;
    bool rows_as_columns_;
    Eigen::MatrixXf matrix_;
    std::vector<float> block_;
    Eigen::Index rows_ = 0;    // rows done
    Eigen::Index stored_ = 0;  // of them, rows flushed into matrix_
};

}  // namespace zimpute
