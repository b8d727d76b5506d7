// Count matrix writing: a genes x cells float matrix back to delimited text with the input's own
// labels, delimiter and orientation, in chunks (output_file.hpp writes them to files).
#pragma once

#include <Eigen/Core>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "count_matrix.hpp"

namespace zimpute {

/// Receives output text piece by piece (about 1 MB at a time, whole lines).
using TextSink = std::function<void(std::string_view)>;

/// Room format_value needs at `out`.
constexpr std::size_t kValueChars = 32;

/// Writes v as the writer does and returns the end: whole numbers below 1e15 without decimals,
/// anything else exactly as printf("%.7g", v) (7 significant digits, trailing zeros dropped).
char* format_value(float v, char* out);

namespace detail {
/// printf("%.7g", x) for a positive finite x through exact scaling by a power of ten, or nullptr
/// where that cannot be sure of the digits (x within 1e-6 of a rounding tie in units of the 7th
/// digit but not exactly on it; x < 1e-16 or x >= 1e28): format_value then calls snprintf. Apart for its tests.
char* format_g7(double x, char* out);
}  // namespace detail

/// Formats `values` (layout.genes x layout.cells) with layout's labels, delimiter and orientation,
/// each value through format_value. The text goes to `sink` in chunks, so it never has to exist
/// whole in memory.
void write_counts(const TableLayout& layout, const Eigen::MatrixXf& values, const TextSink& sink);
/// The same, as one string (small matrices, tests).
std::string write_counts(const TableLayout& layout, const Eigen::MatrixXf& values);

}  // namespace zimpute
