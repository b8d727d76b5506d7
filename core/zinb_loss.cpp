#include "zinb_loss.hpp"

namespace zimpute {

LossKind parse_loss_kind(const std::string& s) {
    if (s == "original") return LossKind::zinb_original;
    if (s == "guarded") return LossKind::zinb_guarded;
    if (s == "nb") return LossKind::nb;
    throw std::invalid_argument("loss must be original, guarded or nb, not '" + s + "'");
}

std::string to_string(LossKind k) {
    return k == LossKind::zinb_original ? "original" : k == LossKind::zinb_guarded ? "guarded" : "nb";
}

}  // namespace zimpute
