#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <vector>
#include <string>

#include "count_matrix.hpp"
#include "test_util.hpp"

using namespace zimpute;

namespace {

std::string error_of(const std::string& text) {
    try {
        test::read_csv(text);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("course format: header of cell names, no gene column, genes in rows") {
    const CountMatrix m = test::read_csv("Cell1,Cell2,Cell3\n0,5,1\n2,0,0\n");
    CHECK(m.n_genes() == 2);
    CHECK(m.n_cells() == 3);
    CHECK(m.counts(0, 1) == 5.0f);
    CHECK(m.counts(1, 0) == 2.0f);
    CHECK(m.cells[2] == "Cell3");
    CHECK_FALSE(m.has_row_names);
    CHECK(m.warnings.empty());
}

TEST_CASE("accepted variants") {
    SUBCASE("index column with a named corner") {
        const CountMatrix m = test::read_csv("gene,c1,c2\nTP53,1,2\nGAPDH,3,4\n");
        CHECK(m.has_row_names);
        CHECK(m.genes[1] == "GAPDH");
        CHECK(m.n_cells() == 2);
        CHECK(m.counts(1, 1) == 4.0f);
    }
    SUBCASE("R-style empty corner") {
        const CountMatrix m = test::read_csv(",c1,c2\ng1,1,2\n");
        CHECK(m.has_row_names);
        CHECK(m.corner.empty());
        CHECK(m.counts(0, 1) == 2.0f);
    }
    SUBCASE("header without a corner field") {
        const CountMatrix m = test::read_csv("c1,c2\ng1,1,2\ng2,0,7\n");
        CHECK(m.has_row_names);
        CHECK_FALSE(m.header_has_corner);
        CHECK(m.counts(1, 1) == 7.0f);
    }
    SUBCASE("quoted names with delimiters and escaped quotes inside") {
        const CountMatrix m = test::read_csv("\"\",\"cell, one\",\"say \"\"hi\"\"\"\n\"g,1\",1,2\n");
        CHECK(m.cells[0] == "cell, one");
        CHECK(m.cells[1] == "say \"hi\"");
        CHECK(m.genes[0] == "g,1");
    }
    SUBCASE("CRLF line ends, UTF-8 BOM and trailing blank lines") {
        const CountMatrix m = test::read_csv("\xEF\xBB\xBF" "Cell1,Cell2\r\n1,2\r\n3,4\r\n\r\n");
        CHECK(m.cells[0] == "Cell1");
        CHECK(m.counts(1, 1) == 4.0f);
    }
    SUBCASE("tab and semicolon delimiters are detected") {
        CHECK(test::read_csv("a\tb\n1\t2\n").delimiter == '\t');
        const CountMatrix s = test::read_csv("a;b\n1;2\n");
        CHECK(s.delimiter == ';');
        CHECK(s.counts(0, 1) == 2.0f);
    }
    SUBCASE("cells in rows are transposed to genes x cells") {
        const CountMatrix m = test::read_csv("cell,GeneA,GeneB,GeneC\nc1,1,2,3\nc2,4,5,6\n", true);
        CHECK(m.n_genes() == 3);
        CHECK(m.n_cells() == 2);
        CHECK(m.genes[2] == "GeneC");
        CHECK(m.cells[1] == "c2");
        CHECK(m.counts(2, 1) == 6.0f);
    }
    SUBCASE("a non-numeric metadata column is skipped with a warning that names it") {
        const CountMatrix m = test::read_csv("cell,group,GeneA,GeneB\nc1,A,1,2\nc2,B,3,4\n", true);
        CHECK(m.n_genes() == 2);
        REQUIRE(m.warnings.size() == 1);
        CHECK(m.warnings[0].find("'group'") != std::string::npos);
        CHECK(m.counts(1, 1) == 4.0f);
    }
    SUBCASE("cells in rows: the first text-only column is kept as the cells' labels, with its name") {
        const CountMatrix m = test::read_csv("cell,group,batch,GeneA,GeneB\nc1,A,x,1,2\nc2,B,y,3,4\nc3,A,x,0,1\n", true);
        CHECK(m.labels_name == "group");
        CHECK(m.labels == std::vector<std::string>{"A", "B", "A"});
        // A column with a number in it is no label column (and is an error, as before).
        CHECK_THROWS(test::read_csv("cell,group,GeneA\nc1,A,1\nc2,2,3\n", true));
        // Genes in rows: a text column describes genes, not cells.
        CHECK(test::read_csv("gene,kind,c1,c2\ng1,x,1,2\ng2,y,3,4\n").labels.empty());
        CHECK(test::read_csv("cell,GeneA,GeneB\nc1,1,2\n", true).labels.empty());
    }
    SUBCASE("non-integer values are a warning, not an error") {
        const CountMatrix m = test::read_csv("a,b\n1.5,2\n3,4e0\n");
        CHECK(m.counts(0, 0) == 1.5f);
        REQUIRE(m.warnings.size() == 1);
        CHECK(m.warnings[0].find("line 2, column 1") != std::string::npos);
    }
    SUBCASE("duplicate cell names are reported") {
        const CountMatrix m = test::read_csv("a,a\n1,2\n");
        REQUIRE(m.warnings.size() == 1);
        CHECK(m.warnings[0].find("duplicate cell name 'a'") != std::string::npos);
    }
}

TEST_CASE("every layout reads the same numbers across the reader's blocks of rows") {
    // 37 rows (more than two of the reader's 16-row blocks) x 5 value columns; value = 100 r + c.
    // Each variant: genes or cells in rows, declared or detected, with a text-only column in the
    // middle that is skipped, and blank lines between rows.
    const int rows = 37, cols = 5;
    auto text = [&](const std::string& corner, const std::vector<std::string>& header, bool metadata,
                    const std::string& row_prefix, bool blank_lines) {
        std::string s = corner;
        for (int c = 0; c < cols; ++c) {
            if (metadata && c == 2) s += ",group";
            s += "," + header[static_cast<std::size_t>(c)];
        }
        s += "\n";
        for (int r = 0; r < rows; ++r) {
            s += row_prefix + std::to_string(r + 1);
            for (int c = 0; c < cols; ++c) {
                if (metadata && c == 2) s += r % 2 ? ",A" : ",B";
                s += "," + std::to_string(100 * r + c);
            }
            s += blank_lines && r % 7 == 3 ? "\n\n" : "\n";
        }
        return s;
    };
    const std::vector<std::string> cells = {"c1", "c2", "c3", "c4", "c5"};
    const std::vector<std::string> genes = {"TP53", "GAPDH", "ACTB", "MYC", "CD4"};
    // genes in rows: counts(r, c); cells in rows: counts(c, r)
    auto check = [&](const CountMatrix& m, bool cells_in_rows, std::size_t n_warnings) {
        CHECK(m.cells_in_rows == cells_in_rows);
        CHECK(m.warnings.size() == n_warnings);
        REQUIRE(m.n_genes() == (cells_in_rows ? cols : rows));
        REQUIRE(m.n_cells() == (cells_in_rows ? rows : cols));
        int wrong = 0;
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c)
                wrong += (cells_in_rows ? m.counts(c, r) : m.counts(r, c)) != static_cast<float>(100 * r + c);
        CHECK(wrong == 0);
    };
    for (bool metadata : {false, true})
        for (bool blank : {false, true}) {
            CAPTURE(metadata);
            CAPTURE(blank);
            const std::size_t skipped = metadata ? 1 : 0;
            check(test::read_csv(text("gene", cells, metadata, "Gene", blank)), false, skipped);
            check(test::read_csv(text("cell", genes, metadata, "Cell", blank), true), true, skipped);
            check(test::read_csv(text("cell", genes, metadata, "Cell", blank)), true, skipped + 1);  // detected
        }
}

TEST_CASE("rejected inputs name the file, line and column and what was found") {
    CHECK(error_of("") == "x.csv: the file is empty");
    CHECK(error_of("\n\n") == "x.csv: the file is empty");
    CHECK(error_of("a,b\n") == "x.csv: no data rows after the header (line 1)");
    CHECK(error_of("a,b,c\n1,2,3\n4,5\n") == "x.csv: line 3: expected 3 fields (as in the header, comma-separated), found 2");
    CHECK(error_of("a,b\n1,2\n3,x7\n") == "x.csv: line 3, column 2: expected a non-negative number, found 'x7'");
    CHECK(error_of("a,b\n1,-2\n") == "x.csv: line 2, column 2: expected a non-negative count, found '-2'");
    CHECK(error_of("a,b\n1,nan\n") == "x.csv: line 2, column 2: expected a finite count, found 'nan'");
    CHECK(error_of("a,b\n1,2\ninf,1\n") == "x.csv: line 3, column 1: expected a finite count, found 'inf'");
    CHECK(error_of("a,b\n1,\n") == "x.csv: line 2, column 2: expected a non-negative number, found ''");
    CHECK(error_of("a,b\n\"1,2\n") == "x.csv: line 2, column 1: unterminated quote");
    CHECK(error_of("a,b\n1,2\n3,0x10\n") == "x.csv: line 3, column 2: expected a non-negative number, found '0x10'");
    CHECK(error_of("g,a\nx,y\n") == "x.csv: no numeric columns");
}

// Rows of plain digits take a fast path (parse_plain_row); anything else, the general one. A space
// after each delimiter sends every row the general way, so the two reads must agree exactly.
TEST_CASE("plain-digit rows read the same as through the general path") {
    const std::vector<std::string> rows = {
        "g1,0,5,12",
        "g2,123456789012345678,0,7",         // 18 digits: the most the fast path takes
        "g3,1234567890123456789,1,0",        // 19: general path (strtod), same float
        "\"g,4\",3,0,1",                     // quoted name: general path
        " g5,0,0,2",                         // leading space: general path, name trimmed
        "g6  ,4,1,0",                        // trailing spaces: trimmed on both paths
        ",9,9,9",                            // empty name
        "g8,1.5,2,0",                        // decimal: general path, non-integer warning
        "g9,00012,0,3",                      // leading zeros
    };
    std::string plain = ",c1,c2,c3\n", spaced = ",c1,c2,c3\n";
    for (const auto& r : rows) {
        plain += r + "\n";
        std::string s;
        for (char ch : r) s += ch == ',' && s.find('"') == std::string::npos ? std::string(", ") : std::string(1, ch);
        if (r[0] == '"') s = "\"g,4\", 3, 0, 1";
        spaced += s + "\n";
    }
    const CountMatrix a = test::read_csv(plain), b = test::read_csv(spaced);
    REQUIRE(a.n_genes() == 9);
    REQUIRE(b.n_genes() == 9);
    CHECK(a.counts == b.counts);
    CHECK(a.genes == b.genes);
    CHECK(a.cells == b.cells);
    CHECK(a.warnings == b.warnings);
    CHECK(a.genes[3] == "g,4");
    CHECK(a.genes[4] == "g5");
    CHECK(a.genes[5] == "g6");
    CHECK(a.genes[6].empty());
    CHECK(a.counts(1, 0) == static_cast<float>(123456789012345678.0));
    CHECK(a.counts(2, 0) == static_cast<float>(1234567890123456789.0));
    CHECK(a.counts(8, 0) == 12.0f);
    REQUIRE(a.warnings.size() == 1);
    CHECK(a.warnings[0].find("1 value is not an integer (first at line 9, column 2: '1.5')") != std::string::npos);

    // Rows the fast path refuses after reading some of their numbers keep the general errors.
    CHECK(error_of(",a,b\ng1,1,2\ng2,1,2,\n") == "x.csv: line 3: expected 3 fields (as in the header, comma-separated), found 4");
    CHECK(error_of(",a,b\ng1,1,2\ng2,1\n") == "x.csv: line 3: expected 3 fields (as in the header, comma-separated), found 2");
    CHECK(error_of(",a,b\ng1,1,2\ng2,1,2x\n") == "x.csv: line 3, column 3: expected a non-negative number, found '2x'");
}

TEST_CASE("a file that cannot be opened is named in the error") {
    CHECK_THROWS_WITH_AS(read_counts_file("no-such-file.csv"), doctest::Contains("cannot open 'no-such-file.csv'"),
                         InputError);
}

TEST_CASE("a file larger than max_entries is refused with its size before the matrix is allocated") {
    ReadOptions o;
    o.source = "big.csv";
    o.max_entries = 11;
    CHECK_THROWS_WITH_AS(read_counts("Cell1,Cell2,Cell3\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n", o),
                         "big.csv: 4 rows x 3 columns, 0.0 GB as dense floats, more than zimpute holds here: select genes or cells first",
                         InputError);
    o.max_entries = 12;
    CHECK(read_counts("Cell1,Cell2,Cell3\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n", o).counts.size() == 12);
    o.max_entries = 11;
    o.cells_in_rows = true;  // the other orientation: the same rows and columns
    CHECK_THROWS_WITH_AS(read_counts("Gene1,Gene2,Gene3\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n", o),
                         "big.csv: 4 rows x 3 columns, 0.0 GB as dense floats, more than zimpute holds here: select genes or cells first",
                         InputError);
}
