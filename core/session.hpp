// One imputation job from input text to output text: what the CLI and the wasm binding share.
// load_data -> [load_truth] -> start_training + step... (or load_model) -> impute -> outputs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "count_matrix.hpp"
#include "calibrate.hpp"
#include "count_writer.hpp"
#include "impute.hpp"
#include "metrics.hpp"
#include "model_io.hpp"
#include "trainer.hpp"

namespace zimpute {

class Session {
public:
    explicit Session(Settings settings = {}) : settings_(std::move(settings)) {}

    Settings& settings() { return settings_; }

    /// Parses the data; drops any previous model, truth and results.
    const CountMatrix& load_data(std::string_view text, const ReadOptions& options);
    /// A 10x trio (each part may be gzipped): matrix.mtx, features.tsv / genes.tsv, barcodes.tsv;
    /// of `options`, only max_entries applies.
    const CountMatrix& load_mtx(std::string_view mtx, std::string_view features, std::string_view barcodes,
                                const std::string& mtx_name, const std::string& features_name,
                                const std::string& barcodes_name, const ReadOptions& options = {});
    /// Uses an already parsed matrix as the data (same effect as load_data).
    const CountMatrix& set_data(CountMatrix m);
    /// Parses a truth matrix and matches it to the data's labels (InputError if it cannot).
    /// Returns the truth file's reading warnings (its header, its name column, duplicates).
    std::vector<std::string> load_truth(std::string_view text, const ReadOptions& options);
    /// A truth already in the data's shape and order.
    void set_truth(Eigen::MatrixXf aligned);
    /// Loads a saved model to impute the data without training (InputError if genes differ).
    void load_model(std::string_view bytes, const std::string& source);

    /// With settings().calibrate: holds out part of the data's counts and prepares the candidates
    /// (core/calibrate). Step it to the end before start_training, which then trains its choice.
    Calibration& start_calibration();
    Calibration* calibration() { return calibration_.get(); }

    /// Fits preprocessing, builds the network with the current settings (or, with calibrate, the
    /// finished calibration's choice), prepares a trainer.
    Trainer& start_training();
    Trainer* trainer() { return trainer_.get(); }
    /// With settings().ensemble N > 1: once the trainer has ended (not cancelled), keeps its
    /// model and starts the next member's training (seed + k, the same settings and prepared
    /// data); false when none is left (or after a cancel). Front ends call it after each training.
    bool next_member();
    int member() const { return static_cast<int>(members_.size()); }  ///< 0-based: the one training
    int members() const { return ensemble_; }                        ///< models to train
    /// Epochs and training seconds of every member so far, the one training included.
    std::vector<int> member_epochs() const;
    double trained_seconds() const;

    /// Predicts with the model (trained or loaded) and applies the imputation rule; with an
    /// ensemble, the members' imputed values are averaged.
    void impute();

    bool has_truth() const { return truth_.has_value(); }
    bool has_model() const { return model_.has_value(); }
    bool has_result() const { return imputed_.has_value(); }
    const CountMatrix& data() const;
    const Eigen::MatrixXf& imputed() const;
    const Eigen::MatrixXf& truth() const;  ///< aligned to the data
    /// One network output in the data's layout (pi, mu, theta: genes x cells; latent: width x
    /// cells), computed on demand by an inference pass: results keep no prediction matrices.
    /// With an ensemble, pi, mu and theta are the members' means; latent is the first member's
    /// (latent spaces of separately trained networks do not line up).
    Eigen::MatrixXf predicted(Output which);
    Prediction prediction();  ///< all four (tests, small data)
    Metrics metrics() const;  ///< needs a truth and a result
    /// Metrics (if a truth is loaded) plus the settings, the genes imputed and a training summary,
    /// as JSON: "genes" (all), "genes_imputed" and, when some genes were left out and genes are
    /// named, "imputed_genes" (their names; left out with with_gene_names false).
    std::string report_json(bool with_gene_names = true) const;
    /// The data's genes the model imputes (rows, ascending); the others keep their observed values.
    std::vector<Eigen::Index> imputed_genes() const;
    /// The model (trained or loaded), or null.
    const Model* model() const { return model_ ? &*model_ : nullptr; }

    /// Streams an output to `sink`: "result" (imputed counts), "pi", "mu", "theta" (genes x
    /// cells) or "latent" (latent units x cells) as text in the input's layout, or "model" (the
    /// saved model's bytes).
    void write_output(const std::string& which, const TextSink& sink);
    std::string output(const std::string& which);  ///< the same, as one string
    std::string model_bytes() const;

private:
    void reset_members();
    std::vector<Model*> averaged();  // the models an ensemble's results average (first member first)
    Settings settings_;
    std::optional<CountMatrix> data_;
    std::optional<Eigen::MatrixXf> truth_;
    std::optional<Model> model_;
    bool model_genes_named_ = false;
    std::vector<Eigen::Index> gene_map_;  // data gene index for each model gene
    std::unique_ptr<Preprocessed> prepared_;
    std::unique_ptr<Calibration> calibration_;
    std::vector<Model> members_;  // an ensemble's finished members (model_ is the last one)
    std::vector<int> member_epochs_;
    double member_seconds_ = 0;
    int ensemble_ = 1;            // members the training started with
    Settings member_settings_;    // the first member's settings (later ones differ in the seed)
    std::unique_ptr<Trainer> trainer_;
    std::optional<Eigen::MatrixXf> imputed_;
};

}  // namespace zimpute
