// The fork-join pool, and the network split across it: a batch on 1, 2 or 3 threads gives the
// same loss and (to float rounding of differently blocked products) the same gradients.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "network.hpp"
#include "rng.hpp"
#include "test_util.hpp"
#include "thread_pool.hpp"

using namespace zimpute;

TEST_CASE("split_range covers [0, n) in order, aligned, without overlap") {
    for (Eigen::Index n : {0, 1, 7, 8, 33, 1000, 1001})
        for (int parts : {1, 2, 3, 4})
            for (Eigen::Index align : {1, 4, 8}) {
                Eigen::Index next = 0;
                for (int t = 0; t < parts; ++t) {
                    const auto r = split_range(n, parts, t, align);
                    CHECK(r.first == next);
                    CHECK(r.second >= r.first);
                    if (r.second < n) CHECK(r.second % align == 0);
                    next = r.second;
                }
                CHECK(next == n);
            }
}

TEST_CASE("parallel_ranges and parallel_parts cover [0, n) once, also when asked for more parts than threads") {
    ThreadPool pool(2);
    for (int parts : {1, 2, 5}) {
        std::vector<int> hit(1000, 0);
        std::vector<int> part_seen(static_cast<std::size_t>(parts), 0);
        parallel_parts(&pool, parts, 1000, [&](int t, Eigen::Index i0, Eigen::Index i1) {
            part_seen[static_cast<std::size_t>(t)] = 1;  // each part is one thread's: no race
            for (Eigen::Index i = i0; i < i1; ++i) ++hit[static_cast<std::size_t>(i)];
        });
        CHECK(std::count(hit.begin(), hit.end(), 1) == 1000);
        CHECK(part_seen[0] == 1);
        parallel_ranges(&pool, parts, 1000, [&](Eigen::Index i0, Eigen::Index i1) {
            for (Eigen::Index i = i0; i < i1; ++i) ++hit[static_cast<std::size_t>(i)];
        });
        CHECK(std::count(hit.begin(), hit.end(), 2) == 1000);
    }
}

TEST_CASE("run calls every part once per region, region after region, and returns after all") {
    ThreadPool pool(3);
    REQUIRE(pool.size() == 3);
    std::atomic<int> calls{0};
    std::vector<int> seen(3, 0);
    for (int region = 0; region < 2000; ++region) {
        pool.run([&](int t) {
            ++seen[static_cast<std::size_t>(t)];
            calls.fetch_add(1);
        });
        REQUIRE(calls.load() == 3 * (region + 1));  // joined: no part still running
    }
    CHECK(seen == std::vector<int>{2000, 2000, 2000});
    // A region may use fewer threads than the pool has; the others sit it out.
    for (int region = 0; region < 500; ++region) pool.run([&](int t) { ++seen[static_cast<std::size_t>(t)]; }, 2);
    CHECK(seen == std::vector<int>{2500, 2500, 2000});
    // Growing adds workers that join later regions only.
    pool.ensure(4);
    REQUIRE(pool.size() == 4);
    seen.assign(4, 0);
    for (int region = 0; region < 100; ++region) pool.run([&](int t) { ++seen[static_cast<std::size_t>(t)]; });
    CHECK(seen == std::vector<int>{100, 100, 100, 100});
    // One shared pool for every model, grown on demand.
    ThreadPool& shared = shared_pool(2);
    CHECK(&shared_pool(3) == &shared);
    CHECK(shared.size() >= 3);
    CHECK(ThreadPool(1).size() == 1);
    CHECK(resolve_threads(1) == 1);
    CHECK(resolve_threads(0) >= 1);
}

TEST_CASE("the thread limit is the front end's: requests, pools and Threads stay within it") {
    const int before = max_threads();
    set_max_threads(2);  // as a wasm build with one pthread worker does
    CHECK(resolve_threads(8) == 2);
    CHECK(ThreadPool(8).size() == 2);
    CHECK(Threads::of_shared_pool(8).count == 2);
    set_max_threads(1);  // a build without threads
    CHECK(resolve_threads(4) == 1);
    const Threads one = Threads::of_shared_pool(4);
    CHECK(one.pool == nullptr);
    CHECK(one.count == 1);
    set_max_threads(0);  // never below one
    CHECK(max_threads() == 1);
    set_max_threads(before);
}

TEST_CASE("a batch split across threads: same loss, same gradients to float rounding") {
    NetworkOptions o;
    const int genes = 300, cells = 33;
    Rng rng(7);
    Eigen::MatrixXf x(genes, cells), y(genes, cells), lg(genes, cells);
    Eigen::VectorXf sf(cells);
    for (int j = 0; j < cells; ++j) {
        sf(j) = static_cast<float>(0.5 + rng.uniform());
        for (int i = 0; i < genes; ++i) {
            y(i, j) = rng.uniform() < 0.6 ? 0.0f : static_cast<float>(rng.poisson(4.0));
            lg(i, j) = std::lgamma(y(i, j) + 1.0f);
            x(i, j) = static_cast<float>(rng.normal());
        }
    }
    Network<float> serial(genes, o, 3, cells);
    serial.forward(x.data(), sf.data(), cells, true);
    const double loss1 = serial.loss_and_head_gradient(y.data(), lg.data(), cells, LossOptions{});
    serial.backward(cells);
    for (int threads : {2, 3}) {
        CAPTURE(threads);
        ThreadPool pool(threads);
        Network<float> net(genes, o, 3, cells);
        net.set_pool(&pool, threads);
        net.forward(x.data(), sf.data(), cells, true);
        CHECK((net.mu(cells) - serial.mu(cells)).norm() / serial.mu(cells).norm() < 1e-5);
        const double loss = net.loss_and_head_gradient(y.data(), lg.data(), cells, LossOptions{});
        CHECK(loss == doctest::Approx(loss1).epsilon(1e-6));
        net.backward(cells);
        CHECK(test::relative_error(net.grads.cast<double>(), serial.grads.cast<double>()) < 1e-5);
    }
}
