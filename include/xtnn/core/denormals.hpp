/// @file
/// A scoped guard that flushes denormal floats to zero inside training work.
#pragma once

/// @def XTNN_HAS_MXCSR
/// 1 where the CPU has the SSE control register (MXCSR) that flush_denormals_guard sets, else 0.
#if defined(__SSE__) || defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define XTNN_HAS_MXCSR 1
#else
#define XTNN_HAS_MXCSR 0
#endif

namespace xtnn {

namespace detail {

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
inline constexpr unsigned int flush_bits = 0x8040;

/// Whether the calling thread flushes denormals (inside a flush_denormals_guard): xtnn's
/// worker threads then flush too while they run a part of its work.
inline bool flushing_denormals() noexcept {
#if XTNN_HAS_MXCSR
    return (_mm_getcsr() & flush_bits) == flush_bits;
#else
    return false;
#endif
}

/// Flushes denormals, or not, as `flush` says, while it lives, then restores the two bits it
/// found (the exception status flags raised meanwhile are kept). A worker thread takes its
/// caller's mode with it: threads inherit the mode of the thread that created them instead.
class denormals_as {
  public:
    explicit denormals_as(bool flush) noexcept {
#if XTNN_HAS_MXCSR
        saved_ = _mm_getcsr();
        _mm_setcsr(flush ? saved_ | flush_bits : saved_ & ~flush_bits);
#else
        (void)flush;
#endif
    }
    ~denormals_as() {
#if XTNN_HAS_MXCSR
        _mm_setcsr((_mm_getcsr() & ~flush_bits) | (saved_ & flush_bits));
#endif
    }
    denormals_as(const denormals_as&) = delete;
    denormals_as& operator=(const denormals_as&) = delete;

  private:
#if XTNN_HAS_MXCSR
    unsigned int saved_ = 0;
#endif
};

} // namespace detail

/// Flushes denormal floats to zero (MXCSR FTZ and DAZ) while it lives, then restores the
/// caller's floating-point state exactly.
///
/// Why: Adam's moment estimates of weights whose gradient is near zero (MNIST's always-black
/// border pixels) decay into denormal floats, and arithmetic on denormals is 2-5x slower on
/// x86. xtnn puts this guard around its forward, backward and optimizer steps, so the caller's
/// own code is never affected. Values below ~1e-38 (float) become 0, which does not change
/// what a network learns. It only affects the calling thread. On CPUs without MXCSR it does
/// nothing.
///
/// @code
/// {
///     xtnn::flush_denormals_guard guard;
///     // heavy float work
/// } // previous mode restored
/// @endcode
/// @ingroup core
class flush_denormals_guard {
  public:
    /// Saves the current mode and turns flush-to-zero and denormals-are-zero on; the
    /// destructor restores those two bits (the exception status flags raised meanwhile are
    /// kept, as they would be without the guard).
    flush_denormals_guard() noexcept : mode_(true) {}
    flush_denormals_guard(const flush_denormals_guard&) = delete;
    flush_denormals_guard& operator=(const flush_denormals_guard&) = delete;

  private:
    detail::denormals_as mode_;
};

} // namespace xtnn
