// Counts heap allocations (global operator new, replaced in counter.cpp) while a function runs.
#pragma once

#include <atomic>
#include <cstddef>

namespace xtnn::test {

/// What one call of allocations_in() saw.
struct allocation_stats {
    long count = 0;          ///< Calls of operator new.
    std::size_t largest = 0; ///< The largest single request, in bytes.
};

void start_counting();
allocation_stats stop_counting();

/// The allocations `f` makes.
template <class F>
allocation_stats allocations_in(F&& f) {
    start_counting();
    try {
        f();
    } catch (...) {
        stop_counting();
        throw;
    }
    return stop_counting();
}

} // namespace xtnn::test
