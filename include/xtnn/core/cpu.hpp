/// @file
/// The vector instruction set xtnn's own kernels use: detected at run time, once, so that a
/// program compiled without `-march=native` still runs AVX-512 or AVX2 code where the CPU has it.
#pragma once

#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>

#include <xtnn/core/errors.hpp>

/// @def XTNN_X86_KERNELS
/// 1 where xtnn compiles its x86 vector kernels (GCC or Clang on x86-64: per-function target
/// attributes, chosen at run time by CPU detection), else 0 (other compilers and CPUs use the
/// portable algorithms).
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define XTNN_X86_KERNELS 1
#else
#define XTNN_X86_KERNELS 0
#endif

namespace xtnn {

/// Instruction sets of xtnn's own vector kernels, narrowest first.
/// @ingroup core
enum class simd_level {
    portable = 0, ///< No vector kernel of xtnn's own: the portable algorithms (BLAS products).
    avx2 = 1,     ///< 256-bit vectors with fused multiply-add (AVX2 and FMA3).
    avx512 = 2,   ///< 512-bit vectors (AVX-512 F, with AVX2 and FMA3).
};

/// "portable", "avx2" or "avx512".
/// @ingroup core
inline std::string_view to_string(simd_level level) {
    switch (level) {
    case simd_level::avx512:
        return "avx512";
    case simd_level::avx2:
        return "avx2";
    case simd_level::portable:
        break;
    }
    return "portable";
}

/// The widest level the CPU (and the operating system, which must save the wide registers)
/// supports, detected once.
/// @ingroup core
inline simd_level detected_simd() {
#if XTNN_X86_KERNELS
    static const simd_level level = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
            __builtin_cpu_supports("fma")) {
            return simd_level::avx512;
        }
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            return simd_level::avx2;
        }
        return simd_level::portable;
    }();
    return level;
#else
    return simd_level::portable;
#endif
}

namespace detail {

/// The level asked for by the environment variable XTNN_SIMD ("portable", "avx2", "avx512";
/// unset: the detected one), capped at the detected one.
/// @throws config_error for another value.
inline simd_level simd_from_environment() {
    const char* asked = std::getenv("XTNN_SIMD");
    if (asked == nullptr || *asked == '\0') {
        return detected_simd();
    }
    const std::string_view name(asked);
    for (const simd_level level : {simd_level::portable, simd_level::avx2, simd_level::avx512}) {
        if (name == to_string(level)) {
            return level < detected_simd() ? level : detected_simd();
        }
    }
    throw config_error("XTNN_SIMD: expected portable, avx2 or avx512; got \"" + std::string(name) +
                       "\"");
}

inline std::atomic<simd_level>& simd_setting() {
    static std::atomic<simd_level> level{simd_from_environment()};
    return level;
}

} // namespace detail

/// The level xtnn's kernels use: the detected one, unless the environment variable XTNN_SIMD
/// or set_simd() lowered it.
/// @throws config_error on first use if XTNN_SIMD holds something else than portable, avx2 or
///         avx512.
/// @ingroup core
inline simd_level active_simd() {
    return detail::simd_setting().load(std::memory_order_relaxed);
}

/// Makes xtnn's kernels use `level`, at most the detected one (a higher one is lowered to it),
/// and returns the level used before. For comparisons and tests; results agree between levels
/// within float rounding. Takes effect at the next forward or backward pass.
/// @ingroup core
/// @code
/// const auto before = xtnn::set_simd(xtnn::simd_level::portable); // BLAS products only
/// // ...
/// xtnn::set_simd(before);
/// @endcode
inline simd_level set_simd(simd_level level) {
    const simd_level capped = level < detected_simd() ? level : detected_simd();
    return detail::simd_setting().exchange(capped, std::memory_order_relaxed);
}

} // namespace xtnn
