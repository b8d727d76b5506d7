// The header row and the name column are decided from the whole file (issue 17, rule 1): each
// case is one of the classes a hostile-input pass found, read through the reader as users meet it.
#include <doctest/doctest.h>

#include "count_matrix.hpp"
#include "count_writer.hpp"
#include "table_shape.hpp"
#include "test_util.hpp"

using namespace zimpute;

namespace {

CountMatrix read_with(const std::string& text, Presence header, Presence row_names) {
    ReadOptions o;
    o.header = header;
    o.row_names = row_names;
    return read_counts(text, o);
}

// 25 genes with distinct whole-number IDs, cells whose counts repeat, under a header `corner`.
std::string id_file(const std::string& corner) {
    std::string t = corner + ",c1,c2\n";
    for (int g = 0; g < 25; ++g) t += std::to_string(5001 + 7 * g) + "," + std::to_string(g % 3) + "," + std::to_string(g % 4) + "\n";
    return t;
}

}  // namespace

TEST_CASE("shape: one 'NA' in row 1 does not make a column of counts into names") {
    CHECK_THROWS_WITH_AS(test::read_csv("Cell1,Cell2,Cell3\nNA,2,3\n4,5,6\n1,0,2\n"),
                         "x.csv: line 2, column 1: expected a non-negative number, found 'NA'", InputError);
    // Text in the first field of row 1 only, the rest numbers: still counts, and the text is named.
    CHECK_THROWS_WITH_AS(test::read_csv("c1,c2\nX,1\n2,3\n4,5\n"),
                         "x.csv: line 2, column 1: expected a non-negative number, found 'X'", InputError);
    // A column of names, one of which looks like a number, is names.
    const CountMatrix m = test::read_csv("gene,c1,c2\nA,1,0\nB,0,2\n7,3,1\nC,1,1\n");
    CHECK(m.has_row_names);
    CHECK(m.genes == std::vector<std::string>{"A", "B", "7", "C"});
    CHECK(m.n_cells() == 2);
}

TEST_CASE("shape: a file without a header row keeps its first row as data, and is written back without one") {
    const std::string text = "0,3,0\n2,0,1\n5,1,0\n";
    const CountMatrix m = test::read_csv(text);
    CHECK_FALSE(m.has_header);
    CHECK(m.n_genes() == 3);
    CHECK(m.n_cells() == 3);
    CHECK(m.counts(0, 1) == 3.0f);  // the first row is the first gene
    CHECK(m.cells == std::vector<std::string>{"Cell1", "Cell2", "Cell3"});
    CHECK_FALSE(m.cells_named());  // a truth is matched by position, not by these made-up names
    REQUIRE(m.warnings.size() == 1);
    CHECK(m.warnings[0].find("--header yes") != std::string::npos);
    CHECK(write_counts(m, m.counts) == text);
    // With gene names in the first column.
    const std::string named = "A,0,3,0\nB,2,0,1\nC,5,1,0\n";
    const CountMatrix n = test::read_csv(named);
    CHECK((!n.has_header && n.has_row_names));
    CHECK(n.genes == std::vector<std::string>{"A", "B", "C"});
    CHECK(write_counts(n, n.counts) == named);
    // Distinct numbers after a name like the row names below it: still the first row.
    const CountMatrix d = test::read_csv("GeneA,5,3,0\nGeneB,2,0,1\nGeneC,1,4,0\n");
    CHECK((!d.has_header && d.genes.front() == "GeneA" && d.n_cells() == 3));
    REQUIRE(d.warnings.size() == 1);
    CHECK(d.warnings[0].find("a row name like those below it") != std::string::npos);
    // A corner named otherwise ('gene' over 'TP53'...) with numbered cells is a header.
    CHECK(test::read_csv("gene,1,2,3\nTP53,5,3,0\nACTB,2,0,1\n").has_header);
    // --header yes reads line 1 as names after all.
    CHECK(read_with(text, Presence::yes, Presence::detect).cells == std::vector<std::string>{"0", "3", "0"});
}

TEST_CASE("shape: a line 1 of numbers is a header only when it is 0,1,2.. or 1,2,3..; distinct others are asked about") {
    CHECK(test::read_csv("0,1,2\n4,0,1\n2,2,0\n").cells == std::vector<std::string>{"0", "1", "2"});  // pandas
    CHECK(test::read_csv("1,2,3\n4,0,1\n2,2,0\n").has_header);
    CHECK_THROWS_WITH_AS(test::read_csv("3,7,12\n0,3,1\n2,0,0\n"),
                         "x.csv: line 1 holds only distinct numbers: it could be a header of numeric names or the first "
                         "row of counts; say --header yes or --header no",
                         InputError);
    const CountMatrix no = read_with("3,7,12\n0,3,1\n2,0,0\n", Presence::no, Presence::detect);
    CHECK((no.n_genes() == 3 && no.counts(0, 2) == 12.0f && no.warnings.empty()));
    CHECK(read_with("3,7,12\n0,3,1\n2,0,0\n", Presence::yes, Presence::detect).cells[2] == "12");
}

TEST_CASE("shape: a line 1 with a value the reader refuses, or numbers beside text, is data; numbered columns are said") {
    CHECK_THROWS_WITH_AS(test::read_csv("5,2,NA,1\n3,4,0,2\n1,1,2,3\n0,3,3,1\n"),
                         "x.csv: line 1, column 3: expected a non-negative number, found 'NA' (line 1 was read as data, not "
                         "a header; if it names the columns, say --header yes)",
                         InputError);
    CHECK_THROWS_WITH_AS(test::read_csv("5,,3,1\n3,4,0,2\n"), doctest::Contains("x.csv: line 1, column 2: expected a non-negative number, found ''"),
                         InputError);
    // Decimals in line 1: data, whatever else (a truth file of expected values without a header).
    const CountMatrix decimals = test::read_csv("0.5,2.25,1.75\n3,4,0\n1,1,2\n");
    CHECK((!decimals.has_header && decimals.n_genes() == 3 && decimals.warnings[0].find("decimals") != std::string::npos));
    // An empty corner (R, pandas) above row names says line 1 is a header, numeric names or not.
    const CountMatrix corner = test::read_csv(",0,1,3,7\nA,1,0,2,1\nB,0,3,1,0\n");
    CHECK((corner.has_header && corner.cells[3] == "7" && corner.warnings[0].find("--header no") != std::string::npos));
    // Two numbered columns are too few to call a header.
    CHECK_THROWS_WITH_AS(test::read_csv("0,1\n3,4\n0,1\n5,0\n"), doctest::Contains("line 1 holds only distinct numbers"), InputError);
    // Semicolons between decimal commas are the delimiter even when commas are more.
    // (so the value named is '2,37', a decimal comma, not a '2' and a '37;1' of a comma split).
    CHECK_THROWS_WITH_AS(test::read_csv("2,37;1,93;0,78;4,35\n1,5;0;3;2\n0;2;1;2\n"),
                         doctest::Contains("line 1, column 1: expected a non-negative number, found '2,37' (a decimal comma?"),
                         InputError);
    CHECK(test::read_csv("gene;c1;c2\nA;1;2\nB;0;3\n").delimiter == ';');
    // A column of decimal commas is refused with its hint, not skipped as a label column.
    CHECK_THROWS_WITH_AS(test::read_csv("Cell1;Cell2;Cell3\n1;2;0,5\n3;0;1,5\n2;2;2,25\n"),
                         "x.csv: line 2, column 3: expected a non-negative number, found '0,5' (a decimal comma? use a decimal point)",
                         InputError);
    CHECK_THROWS_WITH_AS(test::read_csv("1,5;0;3\n0;2;1\n4;0;1\n"), doctest::Contains("line 1, column 1: expected a non-negative number, found '1,5' (a decimal comma?"),
                         InputError);
    // A trailing text column (a label per row) does not make line 1 a header.
    const CountMatrix labelled = test::read_csv("5,2,7,A\n3,4,0,B\n1,1,2,C\n");
    CHECK((!labelled.has_header && labelled.n_genes() == 3 && labelled.n_cells() == 3));
    CHECK(labelled.warnings[0].find("numbers beside text") != std::string::npos);
    // Numbered columns are a header, said in a warning naming --header no.
    const CountMatrix numbered = test::read_csv("1,2,3,4\n0,0,1,5\n4,2,0,1\n");
    CHECK((numbered.has_header && numbered.n_genes() == 2));
    REQUIRE(numbered.warnings.size() == 1);
    CHECK(numbered.warnings[0].find("--header no") != std::string::npos);
    // ... but not after a row name like those below it ...
    CHECK_FALSE(test::read_csv("GeneA,1,2,3\nGeneB,0,2,1\nGeneC,3,0,0\n").has_header);
    // ... and a corner that names the column ('gene') heads numbered cells.
    CHECK(test::read_csv("gene,1001,1002,1005,1010\nGAPDH,0,1,2,3\nACTB,1,0,0,2\nMYC,4,4,0,1\n").cells[3] == "1010");
    // A line 1 one field shorter than the rows must be a header: numbers there are refused.
    CHECK_THROWS_WITH_AS(test::read_csv("1,2,7\n3,4,5,9\n6,7,8,1\n2,2,2,2\n"),
                         doctest::Contains("line 1 is one field shorter than the rows, as a header without a corner, but"),
                         InputError);
    // A ragged line 2 under a line 1 of numbers is not measured against a 'header'.
    CHECK_THROWS_WITH_AS(test::read_csv("5,5,3\n4,5\n"), "x.csv: line 2: expected 3 fields (as in line 1, comma-separated), found 2",
                         InputError);
}

TEST_CASE("shape: whole-number IDs under a header like 'gene_id' are row names, with a warning; the option overrides") {
    const std::string text = "gene_id,Cell1,Cell2,Cell3\n101,0,3,1\n205,2,0,0\n307,1,1,4\n";
    const CountMatrix m = test::read_csv(text);
    CHECK(m.has_row_names);
    CHECK(m.genes == std::vector<std::string>{"101", "205", "307"});
    CHECK(m.cells == std::vector<std::string>{"Cell1", "Cell2", "Cell3"});
    REQUIRE(m.warnings.size() == 1);
    CHECK(m.warnings[0].find("--row-names no") != std::string::npos);
    CHECK(write_counts(m, m.counts) == text);
    const CountMatrix forced = read_with(text, Presence::detect, Presence::no);
    CHECK((forced.n_cells() == 4 && forced.cells[0] == "gene_id" && forced.warnings.empty()));
    // A header that says what the column is, among barcodes.
    CHECK(test::read_csv("GeneID,AAACCTG-1,AAACGGG-1\n11,0,3\n12,2,0\n19,1,1\n").has_row_names);
    // A first name of the cells' own form is a cell ('Cell1' over 'Cell2', ...), even over 25 rows
    // of distinct counts beside counts that repeat (a truth file's most expressed genes).
    CHECK_FALSE(test::read_csv(id_file("c0")).has_row_names);
    // Without a header to say so, such a column is IDs, in a file long enough that distinct
    // counts are not chance ...
    const std::string body = id_file("c0").substr(id_file("c0").find('\n') + 1);
    const CountMatrix headless = test::read_csv(body);
    CHECK((headless.has_row_names && !headless.has_header && headless.genes[0] == "5001" && headless.n_cells() == 2));
    // ... and not in a short one: three distinct counts happen by chance (and line 1 is data).
    CHECK_FALSE(test::read_csv("1,0,1\n4,0,2\n7,1,0\n").has_row_names);
    // A first name of another form than all the cells' ('sample' over 'c1', 'c2') says IDs when
    // they are distinct; repeated, they are counts.
    CHECK(test::read_csv("sample,c1,c2\n1,0,1\n4,0,2\n7,1,0\n").has_row_names);
    CHECK_FALSE(test::read_csv("sample,c1,c2\n1,0,3\n1,2,0\n3,1,1\n").has_row_names);
    // A header that names IDs ('gene_id', 'cell', pandas' 'index') says so even when one repeats.
    CHECK(test::read_csv("gene_id,c1,c2\n7157,0,3\n7157,2,0\n2597,1,1\n").has_row_names);
    const CountMatrix pandas = test::read_csv("cell,TP53,GAPDH,ACTB\n0,1,0,3\n1,0,2,2\n2,4,0,1\n");
    CHECK((pandas.cells_in_rows && pandas.has_row_names && pandas.n_genes() == 3 && pandas.cells[2] == "2"));
    // A header of gene symbols (a transposed file): the first gene's counts stay counts.
    CHECK_FALSE(test::read_csv("TP53,GAPDH,ACTB,MT-CO1\n1,2,3,4\n5,6,7,8\n4,3,2,1\n").has_row_names);
    // A column of missing-value markers alone is no label column either; a label column may miss labels.
    CHECK_THROWS_WITH_AS(test::read_csv("Cell1,Cell2,Cell3\n1,NA,2\n2,.,4\n5,-,7\n"),
                         "x.csv: line 2, column 2: expected a non-negative number, found 'NA'", InputError);
    const CountMatrix grouped = test::read_csv("Cell1,Cell2,group\n1,2,A\n0,3,NA\n4,1,B\n");
    CHECK((grouped.n_cells() == 2 && grouped.warnings[0] == "skipped non-numeric column 'group'"));
    // Missing-value markers are no names: a column mostly 'NA' is counts with an error.
    CHECK_THROWS_WITH_AS(test::read_csv("Cell1,Cell2,Cell3\nNA,1,2\nNA,3,4\n5,6,7\n"),
                         "x.csv: line 2, column 1: expected a non-negative number, found 'NA'", InputError);
    // --row-names yes makes a column of numbers names.
    CHECK(read_with("c1,c2,c3\n1,0,3\n1,2,0\n3,1,1\n", Presence::detect, Presence::yes).genes ==
          std::vector<std::string>{"1", "1", "3"});
}

TEST_CASE("shape: options that contradict the rows' field counts are refused at the line") {
    // R's header without a corner (one field fewer) is a header: --header no cannot hold.
    CHECK_THROWS_WITH_AS(read_with("c1,c2\nA,1,2\nB,3,4\n", Presence::no, Presence::detect),
                         "input: line 2: expected 2 fields (as in line 1, comma-separated), found 3", InputError);
    CHECK(read_with("c1,c2\nA,1,2\nB,3,4\n", Presence::yes, Presence::yes).genes == std::vector<std::string>{"A", "B"});
}

TEST_CASE("shape: the scan reads first fields through quotes and decimal commas") {
    const LeadingColumns s = scan_leading_columns(csv::LineReader("\"A,1\",2\n\"B\"\"x\",3\n1,5;2\n"), ',');
    CHECK(s.rows == 3);
    CHECK(s.first_text == 2);  // "A,1" and B"x; 1 is a number
    CHECK_FALSE(s.first_distinct_integers);
    const LeadingColumns t = scan_leading_columns(csv::LineReader("5;1,5\n6;0\n7;0\n"), ';');
    CHECK(t.first_text == 0);
    CHECK(t.first_distinct_integers);
    CHECK(t.second_repeats);
    CHECK_THROWS_WITH_AS(parse_presence("maybe", "header"), "--header must be auto, yes or no, not 'maybe'", std::invalid_argument);
}
