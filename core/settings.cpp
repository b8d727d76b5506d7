#include "settings.hpp"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace zimpute {

ImputeRule parse_impute_rule(const std::string& s) {
    // "seed" is the name before 0.2 (model files saved then carry it): the course report's rule.
    if (s == "course" || s == "seed") return ImputeRule::course;
    if (s == "mean") return ImputeRule::mean;
    if (s == "posterior") return ImputeRule::posterior;
    throw std::invalid_argument("rule must be posterior, course or mean, not '" + s + "'");
}
std::string to_string(ImputeRule r) {
    return r == ImputeRule::course ? "course" : r == ImputeRule::mean ? "mean" : "posterior";
}

bool parse_decimal(const std::string& text, double& out) {
    std::size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
    const auto digits = [&] {
        const std::size_t from = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        return i - from;
    };
    std::size_t mantissa = digits();
    if (i < text.size() && text[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        if (digits() == 0) return false;
    }
    if (i != text.size()) return false;
    out = std::strtod(text.c_str(), nullptr);  // the checked form is one strtod reads whole
    return std::isfinite(out);
}

namespace {

double parse_double(const std::string& key, const std::string& v, double lo, double hi) {
    double d = 0;
    if (!parse_decimal(v, d) || d < lo || d > hi) {
        std::ostringstream os;
        os << "option '" << key << "' expects a number in [" << lo << ", " << hi << "], got '" << v << "'";
        throw std::invalid_argument(os.str());
    }
    return d;
}

int parse_int(const std::string& key, const std::string& v, int lo, int hi) {
    const double d = parse_double(key, v, lo, hi);
    if (d != std::floor(d))
        throw std::invalid_argument("option '" + key + "' expects a whole number, got '" + v + "'");
    return static_cast<int>(d);
}

bool parse_bool(const std::string& key, const std::string& v) {
    if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
    if (v == "false" || v == "0" || v == "off" || v == "no") return false;
    throw std::invalid_argument("option '" + key + "' expects true or false, got '" + v + "'");
}

std::string fmt(double d) {
    std::ostringstream os;
    os << d;
    return os.str();
}

std::string join_ints(const std::vector<int>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
}

std::vector<int> parse_hidden(const std::string& v) {
    std::vector<int> out;
    std::stringstream ss(v);
    std::string part;
    while (std::getline(ss, part, ',')) out.push_back(parse_int("hidden", part, 1, 4096));
    if (out.empty()) throw std::invalid_argument("option 'hidden' expects widths like 64,32,64");
    return out;
}

struct Entry {
    const char* key;
    const char* help;
    std::function<void(Settings&, const std::string&)> set;
    std::function<std::string(const Settings&)> get;
    std::vector<std::string> choices = {};  ///< closed list of values (OptionDoc::choices)
};

const std::vector<std::string> kBool = {"true", "false"};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = {
        {"epochs", "maximum training epochs (1-100000)",
         [](Settings& s, const std::string& v) { s.train.epochs = parse_int("epochs", v, 1, 100000); },
         [](const Settings& s) { return std::to_string(s.train.epochs); }},
        {"threads", "threads per batch: 0 = this machine's cores (at most 4); 1 in a browser without cross-origin isolation",
         [](Settings& s, const std::string& v) { s.train.threads = parse_int("threads", v, 0, 64); },
         [](const Settings& s) { return std::to_string(s.train.threads); }},
        {"batch-size", "cells per minibatch (1-65536)",
         [](Settings& s, const std::string& v) { s.train.batch_size = parse_int("batch-size", v, 1, 65536); },
         [](const Settings& s) { return std::to_string(s.train.batch_size); }},
        {"learning-rate", "optimizer learning rate",
         [](Settings& s, const std::string& v) { s.train.optimizer.learning_rate = parse_double("learning-rate", v, 1e-8, 10); },
         [](const Settings& s) { return fmt(s.train.optimizer.learning_rate); }},
        {"optimizer", "adam or rmsprop",
         [](Settings& s, const std::string& v) { s.train.optimizer.kind = parse_optimizer_kind(v); },
         [](const Settings& s) { return to_string(s.train.optimizer.kind); },
         {"adam", "rmsprop"}},
        {"weight-decay", "decoupled weight decay (0 = off)",
         [](Settings& s, const std::string& v) { s.train.optimizer.weight_decay = parse_double("weight-decay", v, 0, 1); },
         [](const Settings& s) { return fmt(s.train.optimizer.weight_decay); }},
        {"clip-norm", "clip the gradient to this global L2 norm (0 = off)",
         [](Settings& s, const std::string& v) { s.train.optimizer.clip_norm = parse_double("clip-norm", v, 0, 1e9); },
         [](const Settings& s) { return fmt(s.train.optimizer.clip_norm); }},
        {"clip-value", "clamp each gradient entry to [-v, v] (0 = off)",
         [](Settings& s, const std::string& v) { s.train.optimizer.clip_value = parse_double("clip-value", v, 0, 1e9); },
         [](const Settings& s) { return fmt(s.train.optimizer.clip_value); }},
        {"validation", "fraction of cells held out for early stopping (0-0.9)",
         [](Settings& s, const std::string& v) { s.train.validation_fraction = parse_double("validation", v, 0, 0.9); },
         [](const Settings& s) { return fmt(s.train.validation_fraction); }},
        {"patience", "early-stopping patience in epochs",
         [](Settings& s, const std::string& v) { s.train.early_stopping_patience = parse_int("patience", v, 1, 100000); },
         [](const Settings& s) { return std::to_string(s.train.early_stopping_patience); }},
        {"lr-patience", "epochs without improvement before the learning rate is cut",
         [](Settings& s, const std::string& v) { s.train.reduce_lr_patience = parse_int("lr-patience", v, 1, 100000); },
         [](const Settings& s) { return std::to_string(s.train.reduce_lr_patience); }},
        {"restore-best", "end with the weights of the epoch with the best validation loss (true) or of the last epoch (false, DCA's)",
         [](Settings& s, const std::string& v) { s.train.restore_best = parse_bool("restore-best", v); },
         [](const Settings& s) { return std::string(s.train.restore_best ? "true" : "false"); },
         kBool},
        {"hidden", "hidden layer widths, comma-separated; the middle one is the latent",
         [](Settings& s, const std::string& v) { s.network.hidden = parse_hidden(v); },
         [](const Settings& s) { return join_ints(s.network.hidden); }},
        {"batchnorm", "BatchNorm after each hidden Dense layer (true/false)",
         [](Settings& s, const std::string& v) { s.network.batchnorm = parse_bool("batchnorm", v); },
         [](const Settings& s) { return std::string(s.network.batchnorm ? "true" : "false"); },
         kBool},
        {"loss", "original (DCA ZINB), guarded (ZINB, non-finite elements left out) or nb",
         [](Settings& s, const std::string& v) { s.loss.kind = parse_loss_kind(v); },
         [](const Settings& s) { return to_string(s.loss.kind); },
         {"guarded", "original", "nb"}},
        {"ridge", "ridge penalty on pi (DCA's ridge)",
         [](Settings& s, const std::string& v) { s.loss.ridge = parse_double("ridge", v, 0, 1e3); },
         [](const Settings& s) { return fmt(s.loss.ridge); }},
        {"dispersion", "cell-gene (DCA's conddisp) or gene (one theta per gene)",
         [](Settings& s, const std::string& v) { s.network.dispersion = parse_dispersion(v); },
         [](const Settings& s) {
             return std::string(s.network.dispersion == Dispersion::cell_gene ? "cell-gene" : "gene");
         },
         {"cell-gene", "gene"}},
        {"theta-activation", "softplus (DCA) or exp",
         [](Settings& s, const std::string& v) { s.network.theta_activation = parse_theta_activation(v); },
         [](const Settings& s) {
             return std::string(s.network.theta_activation == ThetaActivation::softplus ? "softplus" : "exp");
         },
         {"softplus", "exp"}},
        {"clip-heads", "bound mu to [1e-5, 1e6] and theta to [1e-4, 1e4] (DCA); false: unbounded heads, which can overflow",
         [](Settings& s, const std::string& v) { s.network.clip_heads = parse_bool("clip-heads", v); },
         [](const Settings& s) { return std::string(s.network.clip_heads ? "true" : "false"); },
         kBool},
        {"size-factor-mean", "multiply mu by the cell's size factor (DCA)",
         [](Settings& s, const std::string& v) { s.network.size_factor_mean = parse_bool("size-factor-mean", v); },
         [](const Settings& s) { return std::string(s.network.size_factor_mean ? "true" : "false"); },
         kBool},
        {"size-factors", "libsize (DCA), median (the course report's) or none",
         [](Settings& s, const std::string& v) { s.preprocess.size_factors = parse_size_factor_method(v); },
         [](const Settings& s) { return to_string(s.preprocess.size_factors); },
         {"libsize", "median", "none"}},
        {"scale", "z-score: per-gene (DCA), global (the course report's) or none",
         [](Settings& s, const std::string& v) { s.preprocess.scale = parse_scale_method(v); },
         [](const Settings& s) { return to_string(s.preprocess.scale); },
         {"per-gene", "global", "none"}},
        {"log1p", "log(1 + x) the normalized input",
         [](Settings& s, const std::string& v) { s.preprocess.log1p = parse_bool("log1p", v); },
         [](const Settings& s) { return std::string(s.preprocess.log1p ? "true" : "false"); },
         kBool},
        {"min-gene-counts", "genes with fewer total counts are not imputed (DCA's filter); they are written unchanged",
         [](Settings& s, const std::string& v) { s.preprocess.min_gene_counts = parse_int("min-gene-counts", v, 0, 2000000000); },
         [](const Settings& s) { return std::to_string(s.preprocess.min_gene_counts); }},
        {"top-genes", "impute only the N most variable genes (scanpy's seurat_v3) when there are more; the others are written unchanged; 0 = all",
         [](Settings& s, const std::string& v) {
             const int n = parse_int("top-genes", v, 0, 2000000000);
             if (n == 1) throw std::invalid_argument("option 'top-genes' expects 0 (all genes) or at least 2, got '1'");
             s.preprocess.top_genes = n;
         },
         [](const Settings& s) { return std::to_string(s.preprocess.top_genes); }},
        {"rule", "imputation rule: posterior, course (the course report's) or mean",
         [](Settings& s, const std::string& v) { s.rule = parse_impute_rule(v); },
         [](const Settings& s) { return to_string(s.rule); },
         {"posterior", "course", "mean"}},
        {"calibrate", "choose the training settings (default or dca) and the rule on the data itself: 10% of its non-zero counts held out, each scored on recovering them, the best trained on everything (2-3.5x the time); overrides optimizer, learning-rate, clip-*, loss and rule",
         [](Settings& s, const std::string& v) { s.calibrate = parse_bool("calibrate", v); },
         [](const Settings& s) { return std::string(s.calibrate ? "true" : "false"); },
         kBool},
        {"ensemble", "train N models (seeds seed, seed+1, ...) and average their imputed values, pi, mu and theta (N times the time; a model file holds one network, so saving needs 1)",
         [](Settings& s, const std::string& v) { s.ensemble = parse_int("ensemble", v, 1, 100); },
         [](const Settings& s) { return std::to_string(s.ensemble); }},
        {"seed", "random seed (split, initial weights, shuffling)",
         [](Settings& s, const std::string& v) {
             const double d = parse_double("seed", v, 0, 9007199254740991.0);
             if (d != std::floor(d)) throw std::invalid_argument("option 'seed' expects a whole number, got '" + v + "'");
             s.seed = static_cast<std::uint64_t>(d);
         },
         [](const Settings& s) { return std::to_string(s.seed); }},
    };
    return table;
}

const Entry& find(const std::string& key) {
    for (const auto& e : entries())
        if (key == e.key) return e;
    std::string known;
    for (const auto& e : entries()) known += (known.empty() ? "" : ", ") + std::string(e.key);
    throw std::invalid_argument("unknown option '" + key + "'; known options: " + known);
}

}  // namespace

std::vector<OptionDoc> option_docs() {
    const Settings defaults;
    std::vector<OptionDoc> out;
    for (const auto& e : entries()) out.push_back({e.key, e.get(defaults), e.help, e.choices});
    return out;
}

void set_option(Settings& s, const std::string& key, const std::string& value) { find(key).set(s, value); }

std::string get_option(const Settings& s, const std::string& key) { return find(key).get(s); }

NetworkOptions network_options(const Settings& s) {
    NetworkOptions o = s.network;
    o.zero_inflated = s.loss.kind != LossKind::nb;
    return o;
}

Settings preset(const std::string& name) {
    Settings s;
    if (name == "dca") {
        s.train.optimizer.kind = OptimizerKind::rmsprop;
        s.train.optimizer.learning_rate = 1e-3;
        s.train.optimizer.clip_value = 5;
        s.loss.kind = LossKind::zinb_original;
        s.rule = ImputeRule::mean;
        return s;
    }
    if (name == "course") {
        s.preprocess.size_factors = SizeFactorMethod::median;
        s.preprocess.scale = ScaleMethod::global;
        s.network.batchnorm = true;
        s.loss.kind = LossKind::zinb_guarded;
        s.train.optimizer.learning_rate = 1e-3;
        s.train.optimizer.clip_norm = 1.0;
        s.rule = ImputeRule::course;
        return s;
    }
    if (name == "real") {  // real counts: bench/quality.py's best on them (README, "Defaults, and why")
        s.calibrate = true;
        s.ensemble = kRealEnsemble;
        return s;
    }
    if (name == "default") return s;
    throw std::invalid_argument("preset must be default, real, dca or course, not '" + name + "'");
}

}  // namespace zimpute
