// Every user-facing option in one place. The CLI's --flags and the page's plain option objects
// use the same keys, set through set_option, so both accept and reject exactly the same things
// and `zimpute --help` and the README document one table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network_options.hpp"
#include "optimizer.hpp"
#include "preprocess.hpp"
#include "zinb_loss.hpp"

namespace zimpute {

enum class ImputeRule {
    course,    ///< observed zero with pi > 0.5 -> floor(mu), else observed (the course report's rule)
    mean,      ///< every entry -> mu (DCA's mean output)
    posterior  ///< observed zero -> P(dropout | x = 0) * mu; non-zeros kept
};
ImputeRule parse_impute_rule(const std::string& s);
std::string to_string(ImputeRule r);

struct TrainOptions {
    int epochs = 300;
    int batch_size = 32;
    double validation_fraction = 0.1;  ///< cells held out for early stopping (0 = monitor train loss)
    int early_stopping_patience = 15;  ///< epochs without improvement before stopping (DCA)
    int reduce_lr_patience = 10;       ///< epochs without improvement before lr *= factor (DCA)
    double reduce_lr_factor = 0.1;     ///< Keras ReduceLROnPlateau default
    double min_delta = 1e-4;           ///< an improvement must beat the best by this much
    int max_recoveries = 8;            ///< divergences tolerated before giving up
    /// At the end, go back to the weights of the epoch with the best monitored loss (Keras'
    /// restore_best_weights). Off by default, as in DCA: the last epoch's weights recovered
    /// masked counts better on bench/quality.py's real and simulated sets (README, "Defaults").
    bool restore_best = false;
    /// Threads one batch is split across; 0 = this machine's cores, at most 4. A run-time choice:
    /// not saved in model files, and results match the 1-thread run to float rounding.
    int threads = 0;
    OptimizerOptions optimizer;
};

struct Settings {
    PreprocessOptions preprocess;
    NetworkOptions network;
    LossOptions loss;
    TrainOptions train;
    ImputeRule rule = ImputeRule::posterior;  ///< best on the course metrics (see README)
    std::uint64_t seed = 42;
    /// Choose the training settings and rule on the data itself before training (core/calibrate):
    /// a run-time choice, like threads; a model file carries what was chosen and tried instead.
    bool calibrate = false;
    /// Models trained (seeds seed, seed + 1, ...) whose imputed values are averaged: a run-time
    /// choice, not saved in model files (a model file holds one network).
    int ensemble = 1;
};

/// The network the settings describe. The one place where zero inflation (a pi head) follows
/// from the loss: every loss but nb has it; settings.network.zero_inflated itself is not read.
NetworkOptions network_options(const Settings& s);

struct OptionDoc {
    std::string key, default_value, help;
    /// The accepted values where they are a closed list (booleans: "true", "false"); empty for
    /// numbers and lists. Front ends build their choice lists from this, never a copy of it.
    std::vector<std::string> choices;
};

/// Reads a number written as a plain decimal: an optional '-', digits with an optional '.', an
/// optional exponent (1e-3, 3e3). Anything else is refused, not read in part: hex (0x10),
/// spaces, '+', inf, nan, a trailing unit. The one number reader of every option and command key.
bool parse_decimal(const std::string& text, double& out);

/// The documented options with their defaults, in display order.
std::vector<OptionDoc> option_docs();

/// Sets one option from text. Throws std::invalid_argument naming the key and the accepted
/// values, or listing the known keys if `key` is unknown.
void set_option(Settings& s, const std::string& key, const std::string& value);

/// Current value of an option as text (the same form set_option accepts).
std::string get_option(const Settings& s, const std::string& key);

/// Models averaged by the "real" preset.
constexpr int kRealEnsemble = 5;

/// Named presets: "real" (the defaults calibrated on the data, an ensemble of kRealEnsemble:
/// the best on real counts in bench/quality.py, about 7x a single training's time), "dca" (DCA's defaults: RMSprop 1e-3 clipped at 5, conddisp, original loss,
/// mean output) and "course" (the course report's Model IV: BatchNorm, guarded loss, Adam 1e-3 with
/// gradient-norm clipping, conddisp, course rule, global scaling, median size factors).
Settings preset(const std::string& name);

}  // namespace zimpute
