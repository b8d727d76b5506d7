#include "optimizer.hpp"

#include <stdexcept>

namespace zimpute {

OptimizerKind parse_optimizer_kind(const std::string& s) {
    if (s == "adam") return OptimizerKind::adam;
    if (s == "rmsprop") return OptimizerKind::rmsprop;
    throw std::invalid_argument("optimizer must be adam or rmsprop, not '" + s + "'");
}

std::string to_string(OptimizerKind k) { return k == OptimizerKind::adam ? "adam" : "rmsprop"; }

}  // namespace zimpute
