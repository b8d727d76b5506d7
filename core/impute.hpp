// Prediction with a trained network and the imputation rules.
#pragma once

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

/// Runs the network in inference mode over `data` (from apply_preprocess) and places the outputs
/// into a genes x cells matrix of the original shape (n_genes x n_cells).
Prediction predict(Model& model, const Preprocessed& data, Eigen::Index n_genes, Eigen::Index n_cells);

/// Applies `rule` to the observed counts (genes x cells) with the prediction of the same shape.
/// Entries the model never saw (set-aside genes and cells) keep their observed value.
Eigen::MatrixXf impute(const Eigen::MatrixXf& observed, const Prediction& p, ImputeRule rule);

/// P(dropout | x = 0) = pi / (pi + (1 - pi) NB(0; mu, theta)), NB(0) = (theta / (theta + mu))^theta.
float dropout_posterior(float pi, float mu, float theta);

}  // namespace zimpute
