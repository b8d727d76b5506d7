// Orientation detection, through the reader (as users meet it) and directly.
#include <doctest/doctest.h>

#include "count_matrix.hpp"
#include "count_writer.hpp"
#include "orientation.hpp"
#include "test_util.hpp"

using namespace zimpute;

TEST_CASE("orientation: a header of gene names is read as cells in rows, and says so; it can be overridden") {
    const std::string transposed = "TP53,GAPDH,ACTB,MT-CO1\n1,2,3,4\n5,6,7,8\n4,3,2,1\n";
    const CountMatrix m = test::read_csv(transposed);
    CHECK(m.cells_in_rows);
    CHECK(m.n_genes() == 4);
    CHECK(m.n_cells() == 3);
    CHECK(m.genes[1] == "GAPDH");
    REQUIRE(m.warnings.size() == 1);
    CHECK(m.warnings[0] ==
          "read as cells in rows, genes in columns: the header looks like gene names ('TP53', 'GAPDH', 'ACTB', ...); "
          "if the rows are genes, choose genes in rows (--genes-in-rows)");
    CHECK(write_counts(m, m.counts) == transposed);  // written back in the file's own orientation
    ReadOptions forced;
    forced.detect_orientation = false;
    CHECK_FALSE(read_counts(transposed, forced).cells_in_rows);
    // Ensembl ids and mouse symbols count as genes; a cell index column confirms
    CHECK(test::read_csv("ENSG00000141510,ENSG00000111640\n1,2\n3,4\n").cells_in_rows);
    CHECK(test::read_csv("cell,Gapdh,Actb,Trp53\nAAACCTGAGAAGGCCT-1,1,2,3\nAAACCTGAGACAGACC-1,4,5,6\n").cells_in_rows);
}

TEST_CASE("orientation: genes in rows stays the default for every other kind of header") {
    CHECK_FALSE(test::read_csv("Cell1,Cell2,Cell3\n1,2,3\n").cells_in_rows);                       // the course's format
    CHECK_FALSE(test::read_csv("S1,S2,S3,S4\n1,2,3,4\n5,6,7,8\n").cells_in_rows);                   // numbered samples
    CHECK_FALSE(test::read_csv("P01,P02,P03\n1,2,3\n").cells_in_rows);
    CHECK_FALSE(test::read_csv("gene,CD4,CD8A\nTP53,1,2\nGAPDH,3,4\n").cells_in_rows);             // genes on both axes: ambiguous
    CHECK_FALSE(test::read_csv("AAACCTGAGAAGGCCT-1,AAACCTGAGACAGACC-1\n1,2\n").cells_in_rows);      // barcodes
    CHECK_FALSE(test::read_csv("a,b\n1,2\n").cells_in_rows);
    CHECK(test::read_csv("S1,S2,S3,S4\n1,2,3,4\n5,6,7,8\n").warnings.empty());
}

TEST_CASE("looks_transposed directly: row names that are genes keep genes in rows") {
    CHECK(looks_transposed({"TP53", "GAPDH", "ACTB"}, {"c1", "c2"}, true));
    CHECK_FALSE(looks_transposed({"TP53", "GAPDH", "ACTB"}, {"ACTB", "CD4"}, true));
    CHECK_FALSE(looks_transposed({"TP53", "Cell1"}, {}, false));
}
