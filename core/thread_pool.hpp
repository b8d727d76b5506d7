// A small fork-join pool for splitting one training batch across cores: run(task) calls
// task(t, parts) on `parts` threads (the caller is thread 0) and returns when all are done.
//
// Why not OpenMP or a task queue: a batch is ~5 parallel regions of 0.1-1 ms each, so what
// matters is the latency of starting and joining one, not load balancing. Workers spin on an
// atomic generation counter for a short while after each region (the next region starts within
// microseconds), then sleep on a condition variable, so an idle pool costs no CPU. In the
// browser the same code runs on Emscripten pthreads (Web Workers over SharedArrayBuffer); a
// build without pthreads has no workers and runs every task inline.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
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

class ThreadPool {
public:
    /// `threads` in total, the calling thread included (threads - 1 workers are started).
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    /// Calls task(t) for t = 0 .. parts - 1 (parts <= size(); all threads by default), t = 0 on
    /// the calling thread; returns when every call has returned. Tasks must not throw (they are
    /// arithmetic on preallocated buffers). One calling thread at a time.
    void run(const std::function<void(int)>& task, int parts = 0);

    /// Adds workers until size() >= threads (within max_threads()); call between runs.
    void ensure(int threads);

private:
    void work(int t, unsigned seen);

    std::vector<std::thread> workers_;
    const std::function<void(int)>* task_ = nullptr;
    int parts_ = 1;
    std::atomic<unsigned> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<int> sleeping_{0};
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
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
