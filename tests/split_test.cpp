#include <doctest/doctest.h>

#include <algorithm>

#include "count_writer.hpp"
#include "split.hpp"

using namespace zimpute;

TEST_CASE("7:3 split covers every cell once, is seeded and keeps labels") {
    const auto [a, b] = split_cells(600, 0.7, 42);
    CHECK(a.size() == 420);
    CHECK(b.size() == 180);
    std::vector<Eigen::Index> all(a);
    all.insert(all.end(), b.begin(), b.end());
    std::sort(all.begin(), all.end());
    for (Eigen::Index i = 0; i < 600; ++i) CHECK(all[static_cast<std::size_t>(i)] == i);
    CHECK(split_cells(600, 0.7, 42).first == a);
    CHECK(split_cells(600, 0.7, 43).first != a);
    CHECK(split_cells(2, 0.99, 1).second.size() == 1);
    CHECK_THROWS_AS(split_cells(1, 0.7, 1), std::invalid_argument);

    CountMatrix m = read_counts("Cell1,Cell2,Cell3\n1,2,3\n4,5,6\n", {});
    const CountMatrix s = subset_cells(m, {0, 2});
    CHECK(s.cells == std::vector<std::string>{"Cell1", "Cell3"});
    CHECK(s.counts(1, 1) == 6.0f);
    CHECK(write_counts(s, s.counts) == "Cell1,Cell3\n1,3\n4,6\n");
}
