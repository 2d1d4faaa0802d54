// The FMA peak of one core: independent fused multiply-adds at the widest vector the CPU has
// (xtnn::detected_simd(), whatever the flags this file is compiled with), the ceiling that
// every kernel's GFLOP/s reads against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include <xtnn/core/cpu.hpp>

#include "support/counters.hpp"

#if XTNN_X86_KERNELS
#include <immintrin.h>
#endif

namespace xtnn::bench {

namespace detail {

// Chains of dependent FMAs, more than the FMA units times their latency (2 x 4 on the cores
// these benchmarks run on), so that the units are never idle.
inline constexpr std::size_t chains = 16;
inline constexpr std::int64_t rounds = 1 << 16;

#if XTNN_X86_KERNELS
__attribute__((target("avx512f,fma"))) inline float fma_rounds_avx512() {
    __m512 acc[chains];
    for (std::size_t i = 0; i < chains; ++i) {
        acc[i] = _mm512_set1_ps(static_cast<float>(i));
    }
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
    for (std::int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < chains; ++i) {
            acc[i] = _mm512_fmadd_ps(acc[i], m, c);
        }
    }
    float total = 0;
    alignas(64) float lanes[16];
    for (std::size_t i = 0; i < chains; ++i) {
        _mm512_store_ps(lanes, acc[i]);
        total += lanes[0];
    }
    return total;
}

__attribute__((target("avx2,fma"))) inline float fma_rounds_avx2() {
    __m256 acc[chains];
    for (std::size_t i = 0; i < chains; ++i) {
        acc[i] = _mm256_set1_ps(static_cast<float>(i));
    }
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
    for (std::int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < chains; ++i) {
            acc[i] = _mm256_fmadd_ps(acc[i], m, c);
        }
    }
    float total = 0;
    alignas(32) float lanes[8];
    for (std::size_t i = 0; i < chains; ++i) {
        _mm256_store_ps(lanes, acc[i]);
        total += lanes[0];
    }
    return total;
}
#endif

inline float fma_rounds_scalar() {
    float acc[chains];
    for (std::size_t i = 0; i < chains; ++i) {
        acc[i] = static_cast<float>(i);
    }
    for (std::int64_t r = 0; r < rounds; ++r) {
        for (std::size_t i = 0; i < chains; ++i) {
            acc[i] = acc[i] * 0.999999f + 1e-6f;
        }
    }
    float total = 0;
    for (std::size_t i = 0; i < chains; ++i) {
        total += acc[i];
    }
    return total;
}

} // namespace detail

/// The core's peak in GFLOP/s (2 per lane per FMA), labelled with the vector width.
inline void fma_peak(benchmark::State& state) {
    const simd_level level = detected_simd();
    std::size_t lanes = 1;
    for (auto _ : state) {
        float result = 0;
#if XTNN_X86_KERNELS
        if (level == simd_level::avx512) {
            result = detail::fma_rounds_avx512();
            lanes = 16;
        } else if (level == simd_level::avx2) {
            result = detail::fma_rounds_avx2();
            lanes = 8;
        } else {
            result = detail::fma_rounds_scalar();
        }
#else
        result = detail::fma_rounds_scalar();
#endif
        benchmark::DoNotOptimize(result);
    }
    state.SetLabel(std::string(to_string(level)));
    set_counters(
        state,
        2.0 * static_cast<double>(lanes * detail::chains) * static_cast<double>(detail::rounds), 1);
}

} // namespace xtnn::bench
