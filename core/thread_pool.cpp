#include "thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <pthread.h>

namespace zimpute {
namespace {

// How long a worker spins for the next region before it sleeps: regions of one batch follow each
// other within microseconds, and waking a sleeping worker costs tens of microseconds (a futex,
// or Atomics.notify in the browser), as long as a small region itself. Past kSpinAlone it yields
// its core at each check, so that it never keeps a descheduled caller from running.
constexpr auto kSpin = std::chrono::microseconds(500);
constexpr auto kSpinAlone = std::chrono::microseconds(20);
// How long the caller spins for a worker's part before it sleeps until the part is done; a wait
// longer than kLongWait and than twice the caller's own parts is long.
constexpr auto kWaitSpin = std::chrono::microseconds(50);
constexpr auto kLongWait = std::chrono::microseconds(250);
// Two misses (workers late for their parts, the caller's long waits) within kStrikeWindow bring
// the next trial of RegionMode forward.
constexpr auto kStrikeWindow = std::chrono::milliseconds(20);

constexpr unsigned kCallerTook = 0x80;  // state_: the caller ran a part beyond part 0
inline unsigned region_of(unsigned state) { return state >> 16; }

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
    const int n = std::max(1, std::min({threads, max_threads(), 64}));
    const unsigned now = region_of(state_.load());
    if (size() >= n) return;
    // Workers are born with SIGINT and SIGTERM blocked (a thread inherits its creator's mask), so
    // a Ctrl-C runs the CLI's handler, which removes temporary output files, on the main thread
    // and never in the middle of a worker's batch.
    sigset_t stop, before;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &before);
    struct Restore {  // the caller's mask comes back even if a thread cannot be started
        const sigset_t& mask;
        ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
    } restore{before};
    for (int t = size(); t < n; ++t) {
        sleepers_.push_back(std::make_unique<Sleeper>());
        Sleeper* sleeper = sleepers_.back().get();
        workers_.emplace_back([this, sleeper, now] { work(*sleeper, now); });
    }
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
    stop_.store(true);
    for (auto& z : sleepers_) {
        { std::lock_guard<std::mutex> lock(z->mutex); }
        z->wake.notify_one();
    }
    for (auto& w : workers_) w.join();
}

void ThreadPool::run(const std::function<void(int)>& task, int parts) {
    parts = parts <= 0 ? size() : std::min(parts, size());
    if (parts == 1) {
        task(0);
        return;
    }
    const auto begin = Clock::now();
    if (misses_.load(std::memory_order_relaxed) > 0) strike(begin, misses_.exchange(0, std::memory_order_relaxed));
    if (mode_.alone(begin)) {
        for (int t = 0; t < parts; ++t) task(t);
        return;
    }
    task_ = &task;
    unfinished_.store(parts, std::memory_order_relaxed);
    const unsigned region = (region_of(state_.load(std::memory_order_relaxed)) + 1) & 0xffffu;
    state_.store(region << 16 | static_cast<unsigned>(parts) << 8 | 1u, std::memory_order_seq_cst);  // part 0 is ours
    for (auto& z : sleepers_) {
        // A worker sets `asleep` before it checks state_ under its lock (both seq_cst): it sees
        // the new region, or this sees `asleep` and the lock orders the notify after its wait
        // began. Clearing `asleep` skips notifying, region after region, a worker that is woken
        // but not yet running (a busy machine's usual case).
        if (z->asleep.load(std::memory_order_seq_cst) && z->asleep.exchange(false, std::memory_order_seq_cst)) {
            { std::lock_guard<std::mutex> lock(z->mutex); }
            z->wake.notify_one();
        }
    }
    task(0);
    finish_part();
    unsigned last;
    run_parts(true, last);
    if (unfinished_.load(std::memory_order_acquire) == 0) return;
    // A worker still runs a part. Spin briefly (parts end at about the same time), then sleep,
    // so that on a busy machine the caller leaves its core to the worker it waits for.
    const auto start = Clock::now();
    for (int i = 1; unfinished_.load(std::memory_order_acquire) != 0; ++i) {
        if ((i & 63) == 0 && Clock::now() - start > kWaitSpin) {
            {
                std::unique_lock<std::mutex> lock(done_mutex_);
                caller_asleep_.store(true, std::memory_order_seq_cst);
                done_.wait(lock, [&] { return unfinished_.load(std::memory_order_seq_cst) == 0; });
                caller_asleep_.store(false, std::memory_order_relaxed);
            }
            // Waited long: a worker was probably descheduled mid-part.
            const auto now = Clock::now();
            if (now - start > std::max<Clock::duration>(kLongWait, 2 * (start - begin))) strike(now, 1);
            return;
        }
    }
}

void ThreadPool::strike(Clock::time_point now, int n) {
    if (n > 1 || now - last_strike_ < kStrikeWindow) mode_.hint();
    last_strike_ = now;
}

bool RegionMode::alone(Clock::time_point now) {
    const long region = region_++;
    if (pos_ < 0 && region >= next_trial_) pos_ = 0;
    if (pos_ < 0) return alone_;
    if (pos_ % kBlock == 0 && pos_ > 0) {
        const int done = pos_ / kBlock;  // blocks timed
        block_[static_cast<std::size_t>(done - 1)] = now - block_start_;
        if (done == kBlocks) {
            keep(alone_faster(done, 20, 19));
            return alone_;
        }
        // Two pairs of blocks that took twice as long with the workers: do not try further.
        if (done % 2 == 0 && done >= 4 && alone_faster(done, 1, 2)) {
            keep(true);
            return alone_;
        }
    }
    if (pos_ % kBlock == 0) block_start_ = now;
    return (pos_++ / kBlock) % 2 == 1;  // blocks 0, 2, ... with the workers; 1, 3, ... alone
}

bool RegionMode::alone_faster(int blocks, int num, int den) const {
    // Whether the first `blocks` blocks (pairs) took num/den as long alone as with the workers,
    // or less, the slowest two of each way left out when there are more than four (a block can
    // take an epoch's serial end).
    std::array<Clock::duration, kBlocks / 2> with, without;  // untimed pairs last
    with.fill(Clock::duration::max());
    without.fill(Clock::duration::max());
    const int pairs = blocks / 2;
    for (int k = 0; k < pairs; ++k) {
        with[static_cast<std::size_t>(k)] = block_[static_cast<std::size_t>(2 * k)];
        without[static_cast<std::size_t>(k)] = block_[static_cast<std::size_t>(2 * k + 1)];
    }
    auto sum = [&](std::array<Clock::duration, kBlocks / 2>& d) {
        std::sort(d.begin(), d.end());
        Clock::duration total{};
        for (int k = 0; k < (pairs > 4 ? pairs - 2 : pairs); ++k) total += d[static_cast<std::size_t>(k)];
        return total;
    };
    return sum(without) * den <= sum(with) * num;
}

void RegionMode::keep(bool alone) {
    // Kept longer each time a trial agrees with the previous one, alone faster (a loaded machine
    // stays loaded for a while; the trials' regions with the workers are what it costs).
    hold_ = alone != alone_ ? kHoldMin : std::min(alone ? 4 * hold_ : 2 * hold_, kHoldMax);
    alone_ = alone;
    pos_ = -1;
    last_trial_end_ = region_;
    next_trial_ = region_ + hold_;
}

void RegionMode::hint() {
    if (pos_ < 0 && !alone_ && region_ - last_trial_end_ >= kBlock * kBlocks) next_trial_ = region_;
}

void ThreadPool::finish_part() {
    // The last part wakes a sleeping caller; seq_cst on both sides: either this sees
    // caller_asleep_ or the caller sees unfinished_ at 0 (and the lock orders the notify after
    // its wait began).
    if (unfinished_.fetch_sub(1, std::memory_order_seq_cst) == 1 && caller_asleep_.load(std::memory_order_seq_cst)) {
        { std::lock_guard<std::mutex> lock(done_mutex_); }
        done_.notify_one();
    }
}

int ThreadPool::run_parts(bool caller, unsigned& last) {
    int ran = 0;
    unsigned s = state_.load(std::memory_order_acquire);
    for (;;) {
        const unsigned part = s & 0x7fu, parts = (s >> 8) & 0xffu;
        if (part >= parts) break;
        // A successful exchange claims an unclaimed part of the live region (the caller neither
        // returns nor starts another region before that part is done), and sees its task_.
        if (state_.compare_exchange_weak(s, (s + 1) | (caller ? kCallerTook : 0u), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
            (*task_)(static_cast<int>(part));
            finish_part();
            ++ran;
            s = state_.load(std::memory_order_acquire);
        }
    }
    last = s;
    return ran;
}

void ThreadPool::work(Sleeper& sleeper, unsigned seen) {
    for (;;) {
        unsigned s = state_.load(std::memory_order_acquire);
        bool spun = false;  // the region was found spinning, not woken
        if (region_of(s) == seen) {
            const auto start = Clock::now();
            for (int i = 1; region_of(s) == seen && !stop_.load(std::memory_order_relaxed); ++i) {
                if ((i & 63) == 0) {
                    const auto spent = Clock::now() - start;
                    if (spent > kSpin) break;
                    if (spent > kSpinAlone) std::this_thread::yield();
                }
                s = state_.load(std::memory_order_acquire);
            }
            spun = region_of(s) != seen;
        }
        // Whole regions went by while this thread spun: it was descheduled.
        const bool skipped = spun && region_of(s) != ((seen + 1) & 0xffffu);
        if (region_of(s) == seen && !stop_.load()) {
            std::unique_lock<std::mutex> lock(sleeper.mutex);
            sleeper.asleep.store(true, std::memory_order_seq_cst);
            sleeper.wake.wait(lock, [&] { return region_of(state_.load(std::memory_order_seq_cst)) != seen || stop_.load(); });
            s = state_.load(std::memory_order_acquire);
        }
        if (stop_.load()) return;
        seen = region_of(s);
        unsigned last;
        const int ran = run_parts(false, last);
        // Came spinning to a region whose parts the caller had taken: descheduled meanwhile.
        // (Finding none left because other workers took them is no miss.)
        if (skipped || (ran == 0 && spun && (region_of(last) != seen || (last & kCallerTook))))
            misses_.fetch_add(1, std::memory_order_relaxed);
    }
}

}  // namespace zimpute
