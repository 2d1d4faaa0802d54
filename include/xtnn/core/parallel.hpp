/// @file
/// xtnn's own threads: the loops BLAS does not run (a convolution's unfolding, per-sample
/// products, pooling) split over samples or planes, each part calling BLAS single-threaded.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <xtnn/core/denormals.hpp>
#include <xtnn/core/errors.hpp>

/// @def XTNN_OPENBLAS_THREADS
/// 1 where xtnn declares OpenBLAS's thread functions weakly (GCC or Clang, ELF), so that it can
/// read and hold OpenBLAS's thread count when linked against OpenBLAS (and leaves another
/// BLAS's threads to the user); else 0.

// OpenBLAS's control of its own threads, declared weak (ELF): null when xtnn is linked against
// another BLAS, whose threads are then the user's to set.
#if defined(__GNUC__) && defined(__ELF__)
extern "C" {
int openblas_get_num_threads(void) __attribute__((weak));
void openblas_set_num_threads(int threads) __attribute__((weak));
}
#define XTNN_OPENBLAS_THREADS 1
#else
#define XTNN_OPENBLAS_THREADS 0
#endif

namespace xtnn {

namespace detail {

/// A fixed team of worker threads, the caller the first member: `run(parts, task)` calls
/// `task(part)` for each part on its own thread and returns when all are done. Between runs
/// a worker polls for the next one for a moment (spin_until), then sleeps on a condition
/// variable; the caller polls for its parts' end the same way. Waking a sleeping thread is a
/// round trip through the kernel (8-10 µs for an empty run of two parts on the benchmark VMs),
/// while a layer chain starts its runs microseconds apart; polling is bounded so that an
/// idle team takes no core from other work. A run from inside a run, or from a second
/// thread while the team is busy, runs its parts one after another on the calling thread
/// instead: never a deadlock, never two runs sharing a worker.
class thread_team {
  public:
    /// The process-wide team.
    static thread_team& instance() {
        static thread_team team;
        return team;
    }

    thread_team() = default;
    thread_team(const thread_team&) = delete;
    thread_team& operator=(const thread_team&) = delete;
    ~thread_team() { resize(1); }

    /// Threads in the team, the caller included.
    std::size_t size() const {
        const std::lock_guard lock(mutex_);
        return workers_.size() + 1;
    }

    /// Makes the team `threads` strong (the caller included; at least 1).
    void resize(std::size_t threads) {
        const std::lock_guard busy(busy_);
        std::vector<std::thread> leaving;
        {
            const std::lock_guard lock(mutex_);
            if (workers_.size() + 1 == std::max<std::size_t>(threads, 1)) {
                return;
            }
            stop_ = true;
            ++generation_;
            leaving.swap(workers_);
        }
        wake_.notify_all();
        for (auto& worker : leaving) {
            worker.join();
        }
        const std::lock_guard lock(mutex_);
        stop_ = false;
        for (std::size_t w = 1; w < std::max<std::size_t>(threads, 1); ++w) {
            workers_.emplace_back([this, w, seen = generation_.load()] { work(w, seen); });
        }
    }

    /// Calls `task(part)` for part in [0, parts), parts ≤ size(), part 0 on the calling thread;
    /// rethrows the first exception a part threw, after every part has finished.
    template <class Task>
    void run(std::size_t parts, Task& task) {
        std::unique_lock busy(busy_, std::defer_lock);
        if (in_part() || !busy.try_lock() || parts > size()) {
            for (std::size_t part = 0; part < parts; ++part) {
                task(part);
            }
            return;
        }
        {
            const std::lock_guard lock(mutex_);
            task_ = &task;
            call_ = [](void* t, std::size_t part) { (*static_cast<Task*>(t))(part); };
            parts_ = parts;
            pending_ = parts - 1;
            error_ = nullptr;
            ++generation_;
        }
        if (parts > 1) {
            wake_.notify_all();
        }
        std::exception_ptr error;
        in_part() = true;
        try {
            task(0);
        } catch (...) {
            error = std::current_exception();
        }
        in_part() = false;
        spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; });
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        if (error == nullptr) {
            error = error_;
        }
        task_ = nullptr;
        lock.unlock();
        if (error != nullptr) {
            std::rethrow_exception(error);
        }
    }

    /// Whether the calling thread is running a part of a run (then a nested run is serial).
    static bool& in_part() {
        thread_local bool inside = false;
        return inside;
    }

  private:
    // Polls `ready` for up to about 50 µs; whether it became true. (Longer than the serial
    // work between two runs of a training step, short enough to cost nothing when idle.)
    template <class Ready>
    static bool spin_until(Ready&& ready) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
        for (std::size_t i = 1;; ++i) {
            if (ready()) {
                return true;
            }
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause(); // lets the other hyperthread run, saves power
#endif
            if (i % 64 == 0 && std::chrono::steady_clock::now() > until) {
                return false;
            }
        }
    }

    void work(std::size_t index, std::size_t seen) {
        in_part() = true;
        std::unique_lock lock(mutex_);
        for (;;) {
            lock.unlock();
            spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
            lock.lock();
            wake_.wait(lock, [&] { return generation_ != seen; });
            seen = generation_;
            if (stop_) {
                return;
            }
            if (index >= parts_) {
                continue;
            }
            void* task = task_;
            auto* call = call_;
            lock.unlock();
            std::exception_ptr error;
            try {
                call(task, index);
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            if (error != nullptr && error_ == nullptr) {
                error_ = error;
            }
            if (--pending_ == 0) {
                done_.notify_one();
            }
        }
    }

    mutable std::mutex mutex_;
    std::mutex busy_; // held for a whole run
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    void* task_ = nullptr;
    void (*call_)(void*, std::size_t) = nullptr;
    std::size_t parts_ = 0;
    // Written under mutex_, read also without it while polling.
    std::atomic<std::size_t> pending_{0}, generation_{0};
    std::exception_ptr error_;
    bool stop_ = false;
};

/// The thread count set by set_num_threads (0: not set).
inline std::atomic<std::size_t>& chosen_threads() {
    static std::atomic<std::size_t> threads{0};
    return threads;
}

/// OpenBLAS's thread count while a single_threaded_blas holds it to one (0: not held), so that
/// num_threads() still answers the user's count meanwhile.
inline std::atomic<int>& held_blas_threads() {
    static std::atomic<int> threads{0};
    return threads;
}

/// Holds BLAS to one thread (OpenBLAS; other BLAS untouched) for the lifetime of the guard:
/// inside xtnn's parallel loops, each part's products run on its own thread.
class single_threaded_blas {
  public:
    /// Holds BLAS to one thread if `active`.
    explicit single_threaded_blas(bool active = true) {
#if XTNN_OPENBLAS_THREADS
        if (active && openblas_get_num_threads != nullptr && openblas_set_num_threads != nullptr) {
            previous_ = openblas_get_num_threads();
            if (previous_ > 1) {
                held_blas_threads() = previous_;
                openblas_set_num_threads(1);
            }
        }
#else
        (void)active;
#endif
    }
    single_threaded_blas(const single_threaded_blas&) = delete;
    single_threaded_blas& operator=(const single_threaded_blas&) = delete;
    ~single_threaded_blas() {
#if XTNN_OPENBLAS_THREADS
        if (previous_ > 1) {
            openblas_set_num_threads(previous_);
            held_blas_threads() = 0;
        }
#endif
    }

  private:
    int previous_ = 1;
};

} // namespace detail

/// Whether layer `L` splits its batch over xtnn's threads (it declares
/// `static constexpr bool splits_batch = true`). A model holding such a layer runs all its BLAS
/// products single-threaded while it works (see sequential): two thread pools, BLAS's and
/// xtnn's, would otherwise compete for the cores, BLAS's idle threads spinning while xtnn's
/// work.
/// @ingroup core
template <class L>
inline constexpr bool splits_batch_v = requires {
    requires L::splits_batch;
};

/// The threads xtnn's own loops use (convolutions and pooling, split over samples and planes):
/// the count given to set_num_threads, else OpenBLAS's (so `OPENBLAS_NUM_THREADS` sets both),
/// else 1. Dense layers' large products split over them too (detail::split_product).
/// @ingroup core
inline std::size_t num_threads() {
    if (const std::size_t chosen = detail::chosen_threads(); chosen != 0) {
        return chosen;
    }
#if XTNN_OPENBLAS_THREADS
    if (const int held = detail::held_blas_threads(); held > 0) {
        return static_cast<std::size_t>(held);
    }
    if (openblas_get_num_threads != nullptr) {
        return static_cast<std::size_t>(std::max(openblas_get_num_threads(), 1));
    }
#endif
    return 1;
}

/// The most threads set_num_threads accepts: 4 per hardware thread, at least 8 (a few more
/// than the cores is a reasonable test of threading; thousands only exhaust the machine).
/// @ingroup core
inline std::size_t max_num_threads() {
    return std::max<std::size_t>(8, 4 * std::size_t{std::thread::hardware_concurrency()});
}

/// Sets the threads of xtnn's loops and, with OpenBLAS, of BLAS; 0 returns to the default
/// (OpenBLAS's count). Call it between training steps, not during one.
/// @throws config_error for more than max_num_threads(), naming the machine's hardware
/// threads (nothing changes).
/// @ingroup core
inline void set_num_threads(std::size_t threads) {
    if (threads > max_num_threads()) {
        throw config_error("set_num_threads: " + std::to_string(threads) +
                           " threads is impossible here; expected at most " +
                           std::to_string(max_num_threads()) + " (4 per hardware thread; this " +
                           "machine has " + std::to_string(std::thread::hardware_concurrency()) +
                           "), or 0 for the default");
    }
    detail::chosen_threads() = threads;
#if XTNN_OPENBLAS_THREADS
    if (threads != 0 && openblas_set_num_threads != nullptr) {
        openblas_set_num_threads(static_cast<int>(threads));
    }
#endif
}

namespace detail {

/// For its lifetime, xtnn's loops started on the calling thread run their parts one after
/// another on it, as they do inside a part of a run: what a part of fit's step computes on a
/// thread of its own, computed in turn with the same sums.
class loops_in_turn {
  public:
    loops_in_turn() : was_(thread_team::in_part()) { thread_team::in_part() = true; }
    loops_in_turn(const loops_in_turn&) = delete;
    loops_in_turn& operator=(const loops_in_turn&) = delete;
    ~loops_in_turn() { thread_team::in_part() = was_; }

  private:
    bool was_;
};

/// How [0, n) is split for parallel_for: `parts` contiguous ranges, none smaller than `grain`
/// items (fewer parts when n is small), at most one per thread.
struct partition {
    std::size_t n = 0, parts = 1;

    partition() = default;
    partition(std::size_t items, std::size_t grain, std::size_t threads)
        : n(items), parts(std::clamp<std::size_t>(items / std::max<std::size_t>(grain, 1), 1,
                                                  std::max<std::size_t>(threads, 1))) {}

    /// The first item of part p (part `parts` gives n): balanced, sizes differ by at most 1.
    std::size_t begin(std::size_t p) const { return n / parts * p + std::min(p, n % parts); }
};

/// The rows of a weight in one part of owned_partition(): whole register tiles of xtnn's
/// kernels (8 rows, half a vector of columns) and of OpenBLAS's.
inline constexpr std::size_t owned_unit = 8;

/// How a weight of `rows` rows splits into `parts` parts of whole owned_units, as even as they
/// can be, that the same threads own through a training step: its products by those rows
/// (gemm_options::split) and its optimizer's update (optimizer_base::step), so that each
/// thread's rows of the weight, its gradient and its optimizer state stay in one core's cache.
/// Two threads had run the MNIST MLP's steps at 0.9-1.0× one while each product split its own
/// way, half of every weight and gradient crossing between the cores at every step.
inline partition owned_partition(std::size_t rows, std::size_t parts) {
    return partition((rows + owned_unit - 1) / owned_unit, 1, parts);
}

/// The buffers whose rows the calling thread's last products split by owned_partition(), with
/// the number of parts (gemm_options::split = rows records them; 1: not split): where a
/// gradient was computed, so that the optimizer updates it on the same threads by the same
/// rows, and not where it was not (a small batch's products run on one thread, and an update
/// split over two then moved the weights between the cores at every step: the MNIST MLP at
/// batch 32 on two threads ran at 0.49-0.87× one). A hint for speed only: an update is the
/// same on any split.
struct owned_parts_record {
    struct entry {
        const void* data = nullptr;
        std::size_t parts = 1;
    };
    std::array<entry, 16> entries{}; // the most recent first to be overwritten last
    std::size_t next = 0;

    static owned_parts_record& mine() {
        thread_local owned_parts_record record;
        return record;
    }
};

/// Records that the calling thread computed the rows of `data` in `parts` parts.
inline void note_owned_parts(const void* data, std::size_t parts) {
    auto& r = owned_parts_record::mine();
    for (auto& e : r.entries) {
        if (e.data == data) {
            e.parts = parts;
            return;
        }
    }
    r.entries[r.next] = {data, parts};
    r.next = (r.next + 1) % r.entries.size();
}

/// The parts in which the calling thread last computed the rows of `data` (1 if unknown).
inline std::size_t owned_parts(const void* data) {
    for (const auto& e : owned_parts_record::mine().entries) {
        if (e.data == data) {
            return e.parts;
        }
    }
    return 1;
}

/// Calls `f(begin, end, part)` for the parts of `split`, in parallel when there are several,
/// with BLAS single-threaded inside; returns when all are done (rethrowing the first error).
template <class F>
void parallel_for(const partition& split, F&& f) {
    if (split.parts <= 1) {
        f(std::size_t{0}, split.n, std::size_t{0});
        return;
    }
    auto& team = thread_team::instance();
    if (!thread_team::in_part() && team.size() < split.parts) {
        team.resize(split.parts);
    }
    const single_threaded_blas blas;
    // The workers flush denormals exactly when the caller does (inside a training step).
    const bool flush = flushing_denormals();
    auto task = [&](std::size_t part) {
        if (part != 0) {
            const denormals_as mode(flush);
            f(split.begin(part), split.begin(part + 1), part);
        } else {
            f(split.begin(part), split.begin(part + 1), part);
        }
    };
    team.run(split.parts, task);
}

/// parallel_for over [0, n) in parts of at least `grain` items, one per xtnn thread at most.
template <class F>
void parallel_for(std::size_t n, std::size_t grain, F&& f) {
    parallel_for(partition(n, grain, num_threads()), std::forward<F>(f));
}

} // namespace detail
} // namespace xtnn
