// The fork-join pool, and the network split across it: a batch on 1, 2 or 3 threads gives the
// same loss and (to float rounding of differently blocked products) the same gradients.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#if defined(__unix__) && !defined(__EMSCRIPTEN__)
#include <pthread.h>
#include <signal.h>
#include <time.h>
#endif

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

TEST_CASE("RegionMode keeps the faster way, alone or with the workers, and keeps trying the other") {
    using Clock = RegionMode::Clock;
    using us = std::chrono::microseconds;
    // Regions take `shared` or `alone` microseconds depending on how they run; counts how many of
    // `regions` ran alone.
    auto run = [](RegionMode& mode, Clock::time_point& now, long regions, long shared, long alone) {
        long ran_alone = 0;
        for (long r = 0; r < regions; ++r) {
            const bool a = mode.alone(now);
            ran_alone += a ? 1 : 0;
            now += us(a ? alone : shared);
        }
        return ran_alone;
    };
    Clock::time_point now{};
    RegionMode mode;
    // Idle: the workers save 30%. Only the trials run alone: their half, ever rarer.
    long alone = run(mode, now, 100000, 70, 100);
    CHECK(!mode.kept_alone());
    CHECK(alone > 0);
    CHECK(alone < 100000 / 50);
    // Busy: with the workers a region takes twice as long. From the next trial on (within
    // kHoldMax regions) it runs mostly alone; the trials still run some regions with the workers.
    run(mode, now, RegionMode::kHoldMax + RegionMode::kBlock * RegionMode::kBlocks + 1, 200, 100);
    CHECK(mode.kept_alone());
    alone = run(mode, now, 100000, 200, 100);
    CHECK(alone < 100000);
    // Each trial ends after two pairs of blocks (twice as long with the workers), and they are
    // ever rarer: a handful in 100000 regions.
    CHECK(100000 - alone <= 6 * 2 * RegionMode::kBlock);
    // Idle again: back to the workers at the next trial, within kHoldMax regions.
    run(mode, now, RegionMode::kHoldMax + RegionMode::kBlock * RegionMode::kBlocks + 1, 70, 100);
    CHECK(!mode.kept_alone());
    // A tie (a worker that never gets a core: the caller claims its parts) is decided alone.
    RegionMode tie;
    Clock::time_point t{};
    run(tie, t, RegionMode::kBlock * RegionMode::kBlocks + 1, 100, 100);
    CHECK(tie.kept_alone());
    // A hint starts a trial at once when running with the workers, not while trying or alone.
    RegionMode hinted;
    Clock::time_point h{};
    run(hinted, h, 1000, 70, 100);  // first trial done, kept the workers for a while
    REQUIRE(!hinted.kept_alone());
    REQUIRE(!hinted.trying());
    hinted.hint();
    hinted.alone(h);
    CHECK(hinted.trying());
}

#if defined(__unix__) && !defined(__EMSCRIPTEN__)
namespace {
// A thread stopped by a signal whose handler waits: as if the OS had descheduled it, wherever it
// was (spinning for a region or asleep).
std::atomic<bool> g_stopped{false}, g_release{false};
extern "C" void stop_here(int) {
    g_stopped.store(true);
    while (!g_release.load()) {
        timespec ts{0, 200000};
        nanosleep(&ts, nullptr);
    }
}
}  // namespace

TEST_CASE("the pool makes progress while one of its threads is descheduled: others run its parts") {
    static_assert(std::atomic<bool>::is_always_lock_free, "used in a signal handler");
    for (int threads : {2, 3}) {
        CAPTURE(threads);
        ThreadPool pool(threads);
        const pthread_t caller = pthread_self();
        // A worker's handle: a thread other than the caller that ran a part (on a busy machine
        // the caller may run every part for a while).
        pthread_t worker = caller;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (pthread_equal(worker, caller) && std::chrono::steady_clock::now() < until) {
            std::vector<pthread_t> ran(static_cast<std::size_t>(threads), caller);
            pool.run([&](int t) {
                ran[static_cast<std::size_t>(t)] = pthread_self();
                for (volatile int spin = 0; spin < 20000; ++spin) {
                }  // long enough for a worker to claim a part
            });
            for (pthread_t p : ran)
                if (!pthread_equal(p, caller)) worker = p;
        }
        REQUIRE(!pthread_equal(worker, caller));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the worker is asleep by now

        struct sigaction action {}, before {};
        action.sa_handler = stop_here;
        sigemptyset(&action.sa_mask);
        REQUIRE(sigaction(SIGUSR1, &action, &before) == 0);
        g_stopped = false;
        g_release = false;
        REQUIRE(pthread_kill(worker, SIGUSR1) == 0);
        while (!g_stopped.load()) std::this_thread::yield();
        // A pool that waits for the stopped worker would hang: release it after 2 s in any case,
        // and check that every region below returned before that.
        std::thread watchdog([] {
            for (int i = 0; i < 200 && !g_release.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            g_release = true;
        });
        bool returned_while_stopped = true;
        std::vector<int> calls(static_cast<std::size_t>(threads), 0);
        int by_caller = 0, by_stopped = 0;
        for (int region = 0; region < 50; ++region) {
            std::vector<pthread_t> ran(static_cast<std::size_t>(threads), caller);
            std::vector<std::atomic<int>> once(static_cast<std::size_t>(threads));
            pool.run([&](int t) {
                ran[static_cast<std::size_t>(t)] = pthread_self();
                once[static_cast<std::size_t>(t)].fetch_add(1);
            });
            returned_while_stopped = returned_while_stopped && !g_release.load();
            for (int t = 0; t < threads; ++t) {
                const auto k = static_cast<std::size_t>(t);
                calls[k] += once[k].load();
                by_caller += pthread_equal(ran[k], caller) ? 1 : 0;
                by_stopped += pthread_equal(ran[k], worker) ? 1 : 0;
            }
        }
        g_release = true;
        watchdog.join();
        sigaction(SIGUSR1, &before, nullptr);
        CHECK(returned_while_stopped);
        CHECK(calls == std::vector<int>(static_cast<std::size_t>(threads), 50));  // every part once per region
        CHECK(by_stopped == 0);
        if (threads == 2) CHECK(by_caller == 2 * 50);  // the caller ran the stopped worker's parts
        else CHECK(by_caller >= 50);
        // Released, the pool goes on.
        std::atomic<int> total{0};
        for (int region = 0; region < 100; ++region) pool.run([&](int) { total.fetch_add(1); });
        CHECK(total.load() == 100 * threads);
    }
}
#endif

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
