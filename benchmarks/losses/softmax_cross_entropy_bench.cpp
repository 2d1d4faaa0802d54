// The fused softmax cross-entropy: loss value and logit gradient for a batch of 10-class
// logits, as fit computes them every step. Items are samples.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_losses
#include <cstddef>

#include <benchmark/benchmark.h>

#include <xtnn/losses/softmax_cross_entropy.hpp>

#include "support/fill.hpp"

namespace {

void softmax_cross_entropy(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto logits = xtnn::bench::filled(batch, 10, -5.0f, 5.0f);
    const auto y = xtnn::bench::labels(batch);
    const xtnn::softmax_cross_entropy loss;
    xtnn::tensor<float, 2> dz(logits.shape());
    for (auto _ : state) {
        benchmark::DoNotOptimize(loss.value_and_gradient(logits, y, dz));
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

} // namespace

BENCHMARK(softmax_cross_entropy)->Arg(1)->Arg(32)->Arg(128)->Arg(256);
