// A small fork-join pool for splitting one training batch across cores: run(task) calls
// task(t) for the parts t = 0 .. parts - 1 of a region and returns when all are done.
//
// Why not OpenMP or a task queue: a batch is ~10 parallel regions of 0.01-1 ms each, so what
// matters is the latency of starting and joining one, not load balancing.
//
// A part is run by whichever thread claims it first: the caller runs part 0, then claims what no
// worker has claimed yet. So a descheduled worker (another program has its core) delays a region
// only by a part it is already running, never by parts it has not reached. Which thread runs a
// part does not change results: a part computes the same outputs into the same (per-part)
// scratch on any thread.
//
// Between regions a worker spins for a short while (the next region usually starts within
// microseconds), yielding its core after the first microseconds to anyone else who wants it,
// then sleeps on a condition variable, so an idle pool costs no CPU. A caller waiting for a
// worker's part spins briefly, then sleeps, leaving its core to that worker.
//
// When the cores are taken by other programs, two threads only get in each other's way, so the
// caller tries both ways now and then (RegionMode) and keeps the faster: with the workers, or
// alone, running the same parts one after the other (so results do not depend on the machine's
// load). Workers arriving after the caller took their parts, or a caller waiting long for a
// worker's part, bring the next try forward.
//
// In the browser the same code runs on Emscripten pthreads (Web Workers over SharedArrayBuffer);
// a build without pthreads has no workers and runs every task inline.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace zimpute {

/// The most threads this process may run (64 unless the front end says otherwise).
int max_threads();
/// Set by a front end whose threads are limited, before any pool is made: 1 for a build
/// without threads, the size of a fixed worker pool (a wasm build's pthread workers + 1).
void set_max_threads(int n);

/// `requested` threads, or with 0 the machine's cores (at most 4: a batch of 32 cells gives
/// little to more), always within [1, max_threads()].
int resolve_threads(int requested);

/// Decides, region by region, whether a pool's caller runs a region with the workers or alone,
/// by trying both: a trial alternates blocks of kBlock regions with and without workers, each
/// timed from its first region's start to the next block's, and the way whose blocks took less
/// (the slowest two of each way left out; the workers' only if 5% less; a trial ends early when
/// the workers' blocks take twice as long) is kept for `hold` regions: kHoldMin, 2x (with the
/// workers) or 4x (alone) longer each time a trial agrees with the previous one, up to kHoldMax.
class RegionMode {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr int kBlock = 8;
    static constexpr int kBlocks = 16;  // per trial, alternately with workers and alone
    static constexpr long kHoldMin = 512;
    static constexpr long kHoldMax = 32768;

    /// Whether the region starting at `now` runs alone. Called once per region.
    bool alone(Clock::time_point now);
    /// Signs that workers are descheduled: try both ways at the next region, if not tried within
    /// the last trial's length and now running with the workers.
    void hint();
    bool trying() const { return pos_ >= 0; }
    bool kept_alone() const { return alone_; }

private:
    bool alone_faster(int blocks, int num, int den) const;
    void keep(bool alone);

    long region_ = 0;      // regions seen
    long next_trial_ = 0;  // the region at which the next trial starts
    long last_trial_end_ = 0;
    long hold_ = kHoldMin;
    int pos_ = -1;  // the region's place in the current trial; -1: none
    bool alone_ = false;
    Clock::time_point block_start_{};
    std::array<Clock::duration, kBlocks> block_{};
};

class ThreadPool {
public:
    /// `threads` in total, the calling thread included (threads - 1 workers are started).
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    /// Calls task(t) once for each t = 0 .. parts - 1 (parts <= size(); all threads by default),
    /// t = 0 on the calling thread, the others on whichever thread claims them first (the caller
    /// included); no two calls with the same t run at once, so per-part scratch indexed by t is
    /// safe, per-thread scratch (thread_local) too. Returns when every call has returned. Tasks
    /// must not throw (they are arithmetic on preallocated buffers). One calling thread at a time.
    void run(const std::function<void(int)>& task, int parts = 0);

    /// Adds workers until size() >= threads (within max_threads() and 64); call between runs.
    void ensure(int threads);

private:
    using Clock = std::chrono::steady_clock;

    // Where a worker sleeps. One per worker, not one condition variable for all: glibc's
    // notify_all (before 2.41) waits until every thread woken by the previous notify has run,
    // so a worker woken but descheduled held up the caller's next notify.
    struct Sleeper {
        std::mutex mutex;
        std::condition_variable wake;
        std::atomic<bool> asleep{false};  // may be waiting on `wake`: notify it
    };

    void work(Sleeper& sleeper, unsigned seen);
    /// Claims and runs parts of the current region until none is left; returns how many it ran
    /// and, in `last`, the state it last saw.
    int run_parts(bool caller, unsigned& last);
    void finish_part();
    /// The caller's: counts n misses at `now`; two in a short while bring a trial forward.
    void strike(Clock::time_point now, int n);

    std::vector<std::thread> workers_;
    std::vector<std::unique_ptr<Sleeper>> sleepers_;  // sleepers_[i] is workers_[i]'s
    const std::function<void(int)>* task_ = nullptr;
    // The current region in one word, so that claiming a part (a compare-exchange) is claiming
    // it of that region: its number (bits 16-31, wrapping), its parts (bits 8-15), whether the
    // caller ran a part beyond part 0 (bit 7) and its next unclaimed part (bits 0-6).
    std::atomic<unsigned> state_{0};
    std::atomic<int> unfinished_{0};  // parts of the current region not yet returned
    std::atomic<bool> caller_asleep_{false};
    std::atomic<int> misses_{0};  // workers' misses not yet counted by the caller
    std::atomic<bool> stop_{false};
    std::mutex done_mutex_;
    std::condition_variable done_;  // the caller: the region's last part returned
    // The caller's own (one caller at a time).
    RegionMode mode_;
    Clock::time_point last_strike_{};
};

/// The threads a run splits its batches across: `count` threads of `pool` (no pool: the calling
/// thread only).
struct Threads {
    ThreadPool* pool = nullptr;
    int count = 1;
    /// resolve_threads(requested) threads of the shared pool.
    static Threads of_shared_pool(int requested);
};

/// The process's one pool, grown to at least `threads` threads, never shrunk. Every model uses it
/// (with as many threads as it asks for), so models alive at the same time never need more
/// workers than exist: the wasm build's pthread workers are a fixed set started with the module,
/// and a thread beyond them would wait for an event loop the blocked caller never returns to.
ThreadPool& shared_pool(int threads);

/// Part `t` of `parts` of [0, n): contiguous ranges differing in length by at most `align`, with
/// every boundary a multiple of `align` (so SIMD blocks are not cut).
inline std::pair<Eigen::Index, Eigen::Index> split_range(Eigen::Index n, int parts, int t, Eigen::Index align = 1) {
    const Eigen::Index blocks = (n + align - 1) / align;
    const Eigen::Index begin = std::min(n, blocks * t / parts * align);
    const Eigen::Index end = std::min(n, blocks * (t + 1) / parts * align);
    return {begin, end};
}

/// f(t, begin, end) for each part t of [0, n), on the pool's threads; one part (t = 0, the whole
/// range) without a pool or when n is too small to be worth splitting.
template <typename F>
void parallel_parts(ThreadPool* pool, int parts, Eigen::Index n, F&& f, Eigen::Index align = 16) {
    if (pool) parts = std::min(parts, pool->size());  // run() would skip the parts beyond it
    if (!pool || parts <= 1 || n < 2 * align) {
        f(0, Eigen::Index(0), n);
        return;
    }
    pool->run([&](int t) {
        const auto r = split_range(n, parts, t, align);
        if (r.first < r.second) f(t, r.first, r.second);
    }, parts);
}

/// Runs f(begin, end) over the parts of [0, n) on the pool's threads (inline without a pool or
/// when n is too small to be worth splitting).
template <typename F>
void parallel_ranges(ThreadPool* pool, int parts, Eigen::Index n, F&& f, Eigen::Index align = 16) {
    parallel_parts(pool, parts, n, [&](int, Eigen::Index begin, Eigen::Index end) { f(begin, end); }, align);
}

}  // namespace zimpute
