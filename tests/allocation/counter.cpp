// Replaces the global operator new to count allocations (see counter.hpp).
#include "counter.hpp"

#include <cstdlib>
#include <new>

namespace {
std::atomic<long> count{0};
std::atomic<std::size_t> largest{0};
std::atomic<bool> counting{false};
} // namespace

namespace xtnn::test {

void start_counting() {
    count = 0;
    largest = 0;
    counting = true;
}

allocation_stats stop_counting() {
    counting = false;
    return {count.load(), largest.load()};
}

} // namespace xtnn::test

// GCC cannot see that these replacements pair malloc with free by design.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
    if (counting.load(std::memory_order_relaxed)) {
        count.fetch_add(1, std::memory_order_relaxed);
        std::size_t seen = largest.load(std::memory_order_relaxed);
        while (size > seen && !largest.compare_exchange_weak(seen, size)) {
        }
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    return operator new(size);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
