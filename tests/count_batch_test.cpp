// CountBatch: each cell's non-zero counts with their genes and lgamma(y + 1), whole counts
// 1..kSmallCount first, nothing else, from sparse pairs and from dense columns alike.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <vector>

#include "count_batch.hpp"

using namespace zimpute;

namespace {

// The cell's entries as gene -> (count, lgy1), after checking the small-first order.
std::map<int, std::pair<float, float>> entries(const kernel::NonZeros<float>& nz) {
    std::map<int, std::pair<float, float>> m;
    for (Eigen::Index k = 0; k < nz.n; ++k) {
        const float y = nz.y[k];
        const bool small = y <= kernel::kSmallCount && y == std::floor(y);
        CHECK(small == (k < nz.n_small));
        CHECK(m.count(nz.gene[k]) == 0);
        m[nz.gene[k]] = {y, nz.lgy1[k]};
    }
    return m;
}

}  // namespace

TEST_CASE("a cell from sparse pairs: small whole counts first, tiny counts left out, lgamma(y+1) per entry") {
    kernel::CountBatch<float> cb;
    cb.resize(10, 3);
    const std::vector<std::int32_t> gene = {9, 0, 4, 2, 7, 5, 1};
    const std::vector<float> count = {7, 1, 2.5f, 6, 1e-9f, 3, 1000};
    int calls = 0;
    cb.set_cell(1, gene.data(), count.data(), static_cast<Eigen::Index>(gene.size()), [&](float v) {
        ++calls;
        return std::lgamma(v + 1.0f);
    });
    CHECK(calls == 6);  // not for the count below 1e-8, which the loss treats as zero
    const auto& nz = cb.cell(1);
    CHECK(nz.n == 6);
    CHECK(nz.n_small == 3);  // 1, 6 and 3
    const auto m = entries(nz);
    const std::map<int, float> want = {{9, 7.0f}, {0, 1.0f}, {4, 2.5f}, {2, 6.0f}, {5, 3.0f}, {1, 1000.0f}};
    CHECK(m.size() == want.size());
    for (const auto& [g, y] : want) {
        CAPTURE(g);
        REQUIRE(m.count(g) == 1);
        CHECK(m.at(g).first == y);
        CHECK(m.at(g).second == doctest::Approx(std::lgamma(y + 1.0f)));
    }
    CHECK(cb.cell(0).n == 0);  // other cells untouched
}

TEST_CASE("a cell from dense columns holds the same entries as from its non-zero pairs") {
    const int genes = 50;
    std::vector<float> y(genes), lg(genes);
    std::vector<std::int32_t> gene;
    std::vector<float> count;
    for (int i = 0; i < genes; ++i) {
        y[i] = i % 3 == 0 ? 0.0f : i % 5 == 0 ? 0.5f * static_cast<float>(i) : static_cast<float>(i % 9);
        lg[i] = std::lgamma(y[i] + 1.0f);
        if (y[i] != 0) gene.push_back(i), count.push_back(y[i]);
    }
    std::reverse(gene.begin(), gene.end());  // any order
    std::reverse(count.begin(), count.end());
    kernel::CountBatch<float> cb;
    cb.resize(genes, 2);
    cb.set_dense(0, y.data(), lg.data());
    cb.set_cell(1, gene.data(), count.data(), static_cast<Eigen::Index>(gene.size()), [](float v) { return std::lgamma(v + 1.0f); });
    CHECK(cb.cell(0).n == static_cast<Eigen::Index>(gene.size()));
    CHECK(cb.cell(0).n_small == cb.cell(1).n_small);
    CHECK(entries(cb.cell(0)) == entries(cb.cell(1)));
}

TEST_CASE("a cell that does not fit is refused") {
    kernel::CountBatch<float> cb;
    cb.resize(3, 2);
    const std::vector<std::int32_t> gene = {0, 1, 2, 0};
    const std::vector<float> count = {1, 1, 1, 1};
    auto lg = [](float) { return 0.0f; };
    CHECK_THROWS_AS(cb.set_cell(0, gene.data(), count.data(), 4, lg), std::logic_error);
    CHECK_THROWS_AS(cb.set_cell(2, gene.data(), count.data(), 1, lg), std::logic_error);
}
