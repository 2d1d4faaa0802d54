// The counters every product benchmark reports: samples per second and GFLOP/s.
#pragma once

#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>

namespace xtnn::bench {

/// items/s = samples per second (`batch` per iteration) and GFLOP/s for
/// `flops_per_iteration` floating-point operations per iteration.
inline void set_counters(benchmark::State& state, double flops_per_iteration, std::size_t batch) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

} // namespace xtnn::bench
