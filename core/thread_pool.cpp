#include "thread_pool.hpp"

#include <algorithm>
#include <chrono>

namespace zimpute {
namespace {

// How long a worker keeps spinning for the next region before it sleeps. Regions of one batch
// follow each other within microseconds; between batches the trainer gathers the next cells
// (~0.1 ms). Waking a sleeping worker costs tens of microseconds (a futex, or Atomics.notify in
// the browser), as long as a small region itself.
constexpr auto kSpin = std::chrono::microseconds(500);

std::atomic<int> g_max_threads{64};

}  // namespace

int max_threads() { return g_max_threads.load(); }

void set_max_threads(int n) { g_max_threads.store(std::max(1, n)); }

int resolve_threads(int requested) {
    int n = requested;
    if (n <= 0) n = std::min(4, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    return std::max(1, std::min(n, max_threads()));
}

ThreadPool::ThreadPool(int threads) { ensure(threads); }

void ThreadPool::ensure(int threads) {
    const int n = std::max(1, std::min(threads, max_threads()));
    const unsigned now = generation_.load();
    for (int t = size(); t < n; ++t) workers_.emplace_back([this, t, now] { work(t, now); });
}

ThreadPool& shared_pool(int threads) {
    static ThreadPool pool(1);
    pool.ensure(threads);
    return pool;
}

Threads Threads::of_shared_pool(int requested) {
    const int n = resolve_threads(requested);
    return n > 1 ? Threads{&shared_pool(n), n} : Threads{};
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

void ThreadPool::run(const std::function<void(int)>& task, int parts) {
    parts = parts <= 0 ? size() : std::min(parts, size());
    if (parts == 1) {
        task(0);
        return;
    }
    task_ = &task;
    parts_ = parts;
    pending_.store(parts - 1, std::memory_order_relaxed);
    {
        // Under the mutex, so a worker deciding to sleep cannot miss the new generation.
        std::lock_guard<std::mutex> lock(mutex_);
        generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    task(0);
    while (pending_.load(std::memory_order_acquire) != 0) {
    }
}

void ThreadPool::work(int t, unsigned seen) {
    for (;;) {
        auto spin_start = std::chrono::steady_clock::now();
        unsigned g = generation_.load(std::memory_order_acquire);
        for (int i = 0; g == seen && !stop_.load(std::memory_order_relaxed); ++i) {
            if ((i & 255) == 255 && std::chrono::steady_clock::now() - spin_start > kSpin) {
                std::unique_lock<std::mutex> lock(mutex_);
                sleeping_.fetch_add(1, std::memory_order_acq_rel);
                wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen || stop_.load(); });
                sleeping_.fetch_sub(1, std::memory_order_acq_rel);
                spin_start = std::chrono::steady_clock::now();
            }
            g = generation_.load(std::memory_order_acquire);
        }
        if (stop_.load()) return;
        seen = g;
        if (t >= parts_) continue;  // this region uses fewer threads than the pool has
        (*task_)(t);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

}  // namespace zimpute
