// The network's architecture and head options (NetworkOptions), apart from the network itself:
// the parameter layout (param_layout.hpp), the ZINB head (zinb_head.hpp) and the settings read
// them without the whole network.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace zimpute {

enum class ThetaActivation { softplus, exp };
enum class Dispersion {
    cell_gene,  ///< DCA "conddisp": a theta head, one value per cell and gene
    gene        ///< one trainable theta per gene
};

struct NetworkOptions {
    std::vector<int> hidden = {64, 32, 64};  ///< hidden layer widths; the middle one is the latent
    bool batchnorm = true;
    // Per cell and gene (DCA's conddisp): with exact BatchNorm statistics it beats one theta per
    // gene on every 1000-gene set measured (README "Defaults"); per gene is steadier below ~300 genes.
    Dispersion dispersion = Dispersion::cell_gene;
    ThetaActivation theta_activation = ThetaActivation::softplus;  ///< DCA's DispAct
    bool zero_inflated = true;     ///< pi head; false for the NB loss
    bool size_factor_mean = true;  ///< mu multiplied by the cell's size factor (DCA)
    /// DCA's bounds on the heads (MeanAct, DispAct: mu in [1e-5, 1e6], theta in [1e-4, 1e4]);
    /// false gives plain exp/softplus heads, which can overflow at a high learning
    /// rate (the trainer's divergence guard then recovers).
    bool clip_heads = true;
    double bn_momentum = 0.99;     ///< running statistics: r = m r + (1 - m) batch (Keras)
    double bn_eps = 1e-3;
};

inline ThetaActivation parse_theta_activation(const std::string& s) {
    if (s == "softplus") return ThetaActivation::softplus;
    if (s == "exp") return ThetaActivation::exp;
    throw std::invalid_argument("theta activation must be softplus or exp, not '" + s + "'");
}

inline Dispersion parse_dispersion(const std::string& s) {
    if (s == "cell-gene") return Dispersion::cell_gene;
    if (s == "gene") return Dispersion::gene;
    throw std::invalid_argument("dispersion must be cell-gene or gene, not '" + s + "'");
}

}  // namespace zimpute
