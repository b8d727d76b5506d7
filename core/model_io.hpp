// Versioned model files: a text header (every option, preprocessing parameters, gene names)
// followed by raw little-endian float32 arrays (parameters, BN running means, running variances).
// Layout, version 2 (version 1, without crc32, still loads):
//   ZIMPUTE-MODEL 2
//   crc32 <8 hex digits>         CRC-32 (checksum.hpp) of the rest of the file: the header without
//                                this line (CRLF read as LF), then the data section
//   option <key> <value>        one line per option in option_docs()
//   genes_total <N>  genes_named <0|1>  kept_genes <i,i,...>  size_factor_reference <x>
//   center <x,x,...>  scale <x,x,...>  params <P>  stats <S>
//   calibration <json>           only when the settings were chosen by calibration
//   genes                        then N lines, one gene name each
//   data                         then P + 2 S float32 values
#pragma once

#include <string>
#include <string_view>

#include "trainer.hpp"

namespace zimpute {

constexpr int kModelFormatVersion = 2;

/// `genes_named` says whether the training file named its genes (else names are generated and
/// only the gene count is checked when the model is applied).
std::string save_model(const Model& model, bool genes_named);

/// Throws InputError with a precise message for a file that is not a zimpute model, has another
/// version, or is truncated. `source` names the file in messages.
Model load_model(std::string_view bytes, const std::string& source, bool* genes_named = nullptr);

/// Genes of `data` in the model's order: index into data's genes for each model gene. Throws
/// InputError naming the first missing gene or the count mismatch.
std::vector<Eigen::Index> match_model_genes(const Model& model, bool model_genes_named, const CountMatrix& data);

}  // namespace zimpute
