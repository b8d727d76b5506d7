#include <doctest/doctest.h>

#include <cmath>

#include "metrics.hpp"

using namespace zimpute;
using M = Eigen::MatrixXf;

TEST_CASE("course metrics on a hand-computed example") {
    M obs(2, 3), imp(2, 3), tru(2, 3);
    obs << 0, 0, 5,  //
        0, 2, 0;
    imp << 1, 0, 5,  //
        3, 2, 0;
    tru << 2, 0, 5,  //
        0, 2, 4;
    const Metrics m = compute_metrics(obs, imp, tru);
    CHECK(m.zero_num == 4);
    CHECK(m.true_dropout_num == 2);     // (0,0) and (1,2)
    CHECK(m.predict_dropout_num == 2);  // (0,0) and (1,0)
    CHECK(m.correct_dropout_num == 1);
    CHECK(m.recall == doctest::Approx(0.5));
    CHECK(m.precision == doctest::Approx(0.5));
    CHECK(m.predict_distance == doctest::Approx(std::sqrt(1.0 + 9 + 16)));
    CHECK(m.origin_distance == doctest::Approx(std::sqrt(4.0 + 16)));
    CHECK(m.distance_ratio == doctest::Approx(std::sqrt(26.0 / 20)));
    CHECK(m.zero_distance_ratio == doctest::Approx(std::sqrt(26.0 / 20)));
    const std::string j = metrics_json(m, "\"rule\":\"seed\"");
    CHECK(j.find("\"zero_num\":4") != std::string::npos);
    CHECK(j.find("\"rule\":\"seed\"}") != std::string::npos);
}

TEST_CASE("perfect imputation gives distance 0 and correlation 1") {
    M obs(3, 3), tru(3, 3);
    tru << 1, 2, 3, 4, 5, 7, 9, 8, 6;
    obs = tru;
    obs(0, 0) = 0;
    obs(2, 1) = 0;
    const Metrics m = compute_metrics(obs, tru, tru);
    CHECK(m.predict_distance == 0.0);
    CHECK(m.recall == 1.0);
    CHECK(m.precision == 1.0);
    CHECK(m.mean_gene_correlation == doctest::Approx(1.0));
    CHECK(m.dropout_log_pearson == doctest::Approx(1.0));
}

TEST_CASE("truth alignment: reorders by name, rejects mismatches with a message") {
    ReadOptions o;
    const CountMatrix data = read_counts("gene,c1,c2\ng1,0,1\ng2,3,0\n", o);
    const CountMatrix shuffled = read_counts("gene,c2,c1\ng2,0,3\ng1,1,5\n", o);
    const M t = align_truth(data, shuffled);
    CHECK(t(0, 0) == 5.0f);  // g1, c1
    CHECK(t(1, 0) == 3.0f);  // g2, c1
    const CountMatrix missing = read_counts("gene,c1,c3\ng1,0,1\ng2,3,0\n", o);
    CHECK_THROWS_WITH_AS(align_truth(data, missing), "the truth file has no cell named 'c2' (cell 2 of the data)", InputError);
    const CountMatrix course = read_counts("Cell1,Cell2\n1,2\n3,4\n5,6\n", o);
    const CountMatrix course_truth = read_counts("Cell1,Cell2\n1,2\n3,4\n", o);
    CHECK_THROWS_WITH_AS(align_truth(course, course_truth), "the truth file has 2 genes, the data has 3", InputError);
    CHECK_THROWS_AS(compute_metrics(M::Zero(2, 2), M::Zero(2, 2), M::Zero(2, 3)), InputError);
    // How the truth was read, when that is why it does not match, comes with the message.
    const CountMatrix ids = read_counts("sample,c1,c2\n7,0,1\n9,3,0\n", o);
    CHECK_THROWS_WITH_AS(align_truth(data, ids),
                         "the truth file has no gene named 'g1' (gene 1 of the data); reading the truth file: column 1 "
                         "('sample') is read as row names, as IDs: its 2 values below line 1 are whole numbers, none twice; "
                         "if they are counts, say --row-names no",
                         InputError);
}

TEST_CASE("truth alignment: a repeated name matches by occurrence, and too few copies are refused") {
    ReadOptions o;
    const CountMatrix data = read_counts("gene,c1,c2\ng1,0,1\ng2,3,0\ng1,2,2\n", o);
    const CountMatrix truth = read_counts("gene,c1,c2\ng2,3,9\ng1,7,1\ng1,2,8\n", o);
    const M t = align_truth(data, truth);
    CHECK(t(0, 1) == 1.0f);  // the data's first g1: the truth's first g1
    CHECK(t(2, 1) == 8.0f);  // the data's second g1: the truth's second g1, not the first again
    CHECK(t(1, 1) == 9.0f);
    const CountMatrix once = read_counts("gene,c1,c2\ng2,3,9\ng1,7,1\ng3,2,8\n", o);
    CHECK_THROWS_WITH_AS(align_truth(data, once), "the truth file has no gene named 'g1' as many times as the data (gene 3 of the data)",
                         InputError);
}
