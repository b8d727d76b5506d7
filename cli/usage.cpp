// The usage text (zimpute --help): the commands, the input files and every option with its
// default, from option_docs() so it never lists an option the settings do not have.
#include "command.hpp"

namespace zimpute {

namespace {

const char* kUsage = R"(zimpute - denoise single-cell count matrices with a ZINB autoencoder (DCA)

usage:
  zimpute impute   --data data.csv --out result.csv [--truth truedata.csv] [--metrics m.json]
                   [--save model.zim] [--pi pi.csv] [--mu mu.csv] [--theta theta.csv]
                   [--latent latent.csv] [options]
  zimpute train    --data data.csv --save model.zim [options]
  zimpute apply    --model model.zim --data data.csv --out result.csv [--truth t.csv] [--metrics m.json]
                   [--threads N]   (the model's own settings apply)
  zimpute evaluate --data data.csv --truth truedata.csv --imputed result.csv [--metrics m.json]
  zimpute split    --data data.csv [--truth truedata.csv] --out-prefix P [--fraction 0.7] [--seed 42]
                   writes P_test.csv and P_validation.csv (and P_test_truth.csv, P_validation_truth.csv)
  zimpute experiment --data test_data.csv --truth test_truedata.csv [--fraction 0.7] [--seed 42]
                   [--epochs 300] [--out table.md] [--csv table.csv]
                   the course experiment: split cells 7:3, train Models I-IV (BatchNorm on/off x
                   original/guarded loss), the DCA preset and the defaults on the 70%, compare on the 30%
  zimpute simulate --out data.csv [--truth-out truedata.csv] [--genes 1000] [--cells 600]
                   [--groups 3] [--zero-fraction 0.6] [--seed 1]

Every option is --key value or --key=value.
input files: genes in rows, cells in columns, a header row of cell names (the course's
test_data.csv); an index column of gene names is optional. Comma, tab or semicolon; gzip is
recognised. --data may also be a 10x directory or its matrix.mtx[.gz] (with features.tsv or
genes.tsv and barcodes.tsv beside it); results are then written as CSV with a gene column.
  --cells-in-rows     the file has cells in rows and genes in columns
  --genes-in-rows     the file has genes in rows, whatever its labels look like (by default a
                      header of gene names and no cell-like names is read as cells in rows, and
                      a warning says so)
  --header yes|no     line 1 is (not) a header row; by default decided from the file: a line of
                      numbers with repeats is data, with a warning; one of distinct numbers other
                      than 0,1,2,... or 1,2,3,... is refused as ambiguous
  --row-names yes|no  the first column holds (no) row names; by default a column of text is
                      names, a column of numbers is counts unless its header says IDs ('gene_id'
                      over 'Cell1', 'Cell2', ...), with a warning
  --preset NAME       start from default, real (for real counts: calibrated, an ensemble of 5),
                      dca or course settings, then apply the options below
  --quiet             no per-epoch progress on stderr

options (default):
)";

}  // namespace

std::string usage_text() {
    std::string text = kUsage;
    for (const auto& d : option_docs()) {
        std::string flag = "  --" + d.key + " " + (d.default_value.empty() ? "\"\"" : d.default_value);
        if (flag.size() < 28) flag.resize(28, ' ');
        text += flag + "  " + d.help + "\n";
    }
    return text + "\nThe last line on stdout is RESULT_JSON {...} with timing (and metrics with --truth).\n";
}

}  // namespace zimpute
