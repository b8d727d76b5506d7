// The course experiment's table as the native `experiment` command prints it and the page
// downloads it (Experiment.table(format) in wasm/experiment_binding.cpp): presentation of
// core/experiment's rows, kept out of the core.
#pragma once

#include <string>

#include "../core/experiment.hpp"

namespace zimpute {

/// Markdown ("md", the best row bold and marked "(best)") or CSV ("csv", a `best` column).
/// Throws std::invalid_argument for another format.
std::string experiment_table(const Experiment& e, const std::string& format);

}  // namespace zimpute
