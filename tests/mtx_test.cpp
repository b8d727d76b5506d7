#include <doctest/doctest.h>

#include "mtx.hpp"
#include "session.hpp"

using namespace zimpute;

namespace {

const char* kMtx =
    "%%MatrixMarket matrix coordinate integer general\n"
    "%metadata_json: {\"software_version\": \"cellranger\"}\n"
    "3 2 4\n"
    "1 1 5\n"
    "3 1 2\n"
    "2 2 7\n"
    "3 2 1\n";
const char* kFeatures = "ENSG01\tTP53\tGene Expression\nENSG02\tGAPDH\tGene Expression\nENSG03\tACTB\tGene Expression\n";
const char* kBarcodes = "AAAC-1\nAAAG-1\n";

std::string error_of(const std::string& mtx, const std::string& features = kFeatures, const std::string& barcodes = kBarcodes) {
    try {
        read_mtx(mtx, features, barcodes);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a 10x trio reads as genes x cells with gene names and barcodes; written as CSV") {
    const CountMatrix m = read_mtx(kMtx, kFeatures, kBarcodes);
    CHECK(m.n_genes() == 3);
    CHECK(m.n_cells() == 2);
    CHECK(m.counts(0, 0) == 5.0f);
    CHECK(m.counts(1, 0) == 0.0f);
    CHECK(m.counts(2, 1) == 1.0f);
    CHECK(m.genes[1] == "GAPDH");
    CHECK(m.cells[1] == "AAAG-1");
    CHECK(write_counts(m, m.counts) == "gene,AAAC-1,AAAG-1\nTP53,5,0\nGAPDH,0,7\nACTB,2,1\n");
    // genes.tsv of older Cell Ranger versions has two columns; real values are accepted
    const CountMatrix old = read_mtx("%%MatrixMarket matrix coordinate real general\n2 1 1\n2 1 3.5\n", "E1\tA\nE2\tB\n", "x\n");
    CHECK(old.genes[1] == "B");
    CHECK(old.counts(1, 0) == 3.5f);
    Session s;
    CHECK(s.load_mtx(kMtx, kFeatures, kBarcodes, "m.mtx", "f.tsv", "b.tsv").n_genes() == 3);
}

TEST_CASE("duplicate gene symbols and barcodes are warned about, as in CSV") {
    const CountMatrix m = read_mtx(kMtx, "E1\tTP53\tGene Expression\nE2\tTP53\tGene Expression\nE3\tACTB\tGene Expression\n",
                                   "AAAC-1\nAAAC-1\n");
    CHECK(m.warnings == std::vector<std::string>{"duplicate cell name 'AAAC-1' (first duplicate shown)",
                                                 "duplicate gene name 'TP53' (first duplicate shown)"});
    CHECK(read_mtx(kMtx, kFeatures, kBarcodes).warnings.empty());
}

TEST_CASE("an empty barcode or gene name is refused with its line") {
    CHECK(error_of(kMtx, kFeatures, "\nAAAG-1\n") == "barcodes.tsv: line 1: an empty barcode");
    CHECK(error_of(kMtx, "E1\tTP53\tGene Expression\nE2\t\tGene Expression\nE3\tACTB\tGene Expression\n") ==
          "features.tsv: line 2: an empty gene name");
    CHECK(error_of(kMtx, kFeatures, "AAAC-1\nAAAG-1\n\n\n") == "no error");  // trailing blank lines are no names
}

TEST_CASE("a binary or HDF5 file in any of the three places is named as what it is") {
    const std::string hdf5("\x89HDF\r\n\x1a\n\0\0\0", 11);
    CHECK(error_of(hdf5) == "matrix.mtx: an HDF5 file (such as AnnData .h5ad or 10x .h5), not text; zimpute reads CSV/TSV "
                            "text and 10x matrix.mtx files");
    CHECK(error_of(kMtx, std::string("E1\tTP53\0\1", 10)) == "features.tsv: a binary file (a zero byte at offset 7), not CSV/TSV text");
    CHECK(error_of(kMtx, kFeatures, "PK\x03\x04rest") == "barcodes.tsv: a ZIP archive; unpack it and give the CSV/TSV inside");
}

TEST_CASE("malformed trios and oversized headers give precise messages") {
    CHECK(error_of("") == "matrix.mtx: the file is empty");
    CHECK(error_of("%%MatrixMarket matrix array real general\n3 2\n") ==
          "matrix.mtx: line 1: expected '%%MatrixMarket matrix coordinate integer general' (or real), found "
          "'%%MatrixMarket matrix array real general'");
    CHECK(error_of("%%MatrixMarket matrix coordinate integer general\n3 2\n") ==
          "matrix.mtx: line 2: expected 'rows columns entries' as three whole numbers, found '3 2'");
    CHECK(error_of("%%MatrixMarket matrix coordinate integer general\n100000 100000 1\n1 1 1\n") ==
          "matrix.mtx: line 2: the header claims 100000 genes x 100000 cells, 40.0 GB as dense floats, more than zimpute "
          "holds here: select genes or cells first");
    // The limit is the front end's (ReadOptions::max_entries): a browser sets a smaller one.
    CHECK_THROWS_WITH_AS(read_mtx(kMtx, kFeatures, kBarcodes, "m.mtx", "f.tsv", "b.tsv", 5.0),
                         doctest::Contains("the header claims 3 genes x 2 cells"), InputError);
    CHECK_NOTHROW(read_mtx(kMtx, kFeatures, kBarcodes, "m.mtx", "f.tsv", "b.tsv", 6.0));
    CHECK(error_of("%%MatrixMarket matrix coordinate integer general\n3 2 2\n1 1 5\n") ==
          "matrix.mtx: line 2: the header promises 2 entries, the file has 1");
    CHECK(error_of("%%MatrixMarket matrix coordinate integer general\n3 2 1\n4 1 5\n") ==
          "matrix.mtx: line 3: expected 'row column value' inside 3 x 2, found '4 1 5'");
    CHECK(error_of("%%MatrixMarket matrix coordinate integer general\n3 2 1\n1 1 -5\n") ==
          "matrix.mtx: line 3: expected a finite non-negative count, found '1 1 -5'");
    CHECK(error_of(kMtx, "ENSG01\tTP53\n") == "features.tsv: 1 lines, the matrix has 3 genes");
    CHECK(error_of(kMtx, kFeatures, "A\nB\nC\n") == "barcodes.tsv: 3 lines, the matrix has 2 cells");
}
