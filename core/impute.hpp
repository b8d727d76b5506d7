// Prediction with a trained network and the imputation rules. Inference runs a batch of cells at
// a time and places outputs straight into the data's layout, so no genes x cells matrix of
// network outputs is kept unless one is asked for (outputs "pi", "mu", ... of the CLI and page).
#pragma once

#include <functional>

#include "preprocess.hpp"
#include "settings.hpp"
#include "trainer.hpp"

namespace zimpute {

/// Network outputs for a whole matrix, in the original genes x cells shape. Genes and cells that
/// were set aside (all zero) get pi = 0, mu = 0 and theta = 0; latent is zero for those cells.
struct Prediction {
    Eigen::MatrixXf pi, mu, theta;  ///< genes x cells; mu is on the cell's count scale
    Eigen::MatrixXf latent;         ///< latent width x cells
};

enum class Output { pi, mu, theta, latent };
/// "pi", "mu", "theta" or "latent"; std::invalid_argument otherwise.
Output parse_output(const std::string& s);

/// Runs the network in inference mode over every cell of `data`, max_batch() cells at a time;
/// after each batch calls visit(first, b): the network's outputs then hold kept cells
/// first .. first + b - 1 of `data`.
void for_each_batch(Model& model, const Preprocessed& data, const std::function<void(Eigen::Index, Eigen::Index)>& visit);

/// One network output as an n_genes x n_cells matrix (latent: width x n_cells). Model gene k
/// (of model.prep.n_genes_total) goes to row rows[k], or row k without `rows`.
Eigen::MatrixXf predict_output(Model& model, const Preprocessed& data, Output which, Eigen::Index n_genes,
                               Eigen::Index n_cells, const std::vector<Eigen::Index>* rows = nullptr);

/// All four outputs (four inference passes; tests and small data).
Prediction predict(Model& model, const Preprocessed& data, Eigen::Index n_genes, Eigen::Index n_cells,
                   const std::vector<Eigen::Index>* rows = nullptr);

/// The imputed value of one entry: observed x, network outputs mu, pi, theta.
float impute_value(float x, float mu, float pi, float theta, ImputeRule rule);

/// Applies `rule` to the observed counts (genes x cells) with the prediction of the same shape.
/// Entries the model never saw (set-aside genes and cells) keep their observed value.
Eigen::MatrixXf impute(const Eigen::MatrixXf& observed, const Prediction& p, ImputeRule rule);

/// The same result computed batch by batch into `observed` (which `data` was prepared from, with
/// the same `rows`), holding no prediction matrices.
void impute_in_place(Model& model, const Preprocessed& data, Eigen::MatrixXf& observed, ImputeRule rule,
                     const std::vector<Eigen::Index>* rows = nullptr);

/// P(dropout | x = 0) = pi / (pi + (1 - pi) NB(0; mu, theta)), NB(0) = (theta / (theta + mu))^theta.
float dropout_posterior(float pi, float mu, float theta);

}  // namespace zimpute
