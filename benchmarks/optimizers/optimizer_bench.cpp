// One optimizer step over the MNIST MLP's 101,770 parameters, for each optimizer. Items are
// parameters updated; fit runs one step per batch, so at batch 32 a step's cost is shared by
// 32 samples.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_optimizers
#include <cstddef>

#include <benchmark/benchmark.h>

#include <xtnn/xtnn.hpp>

#include "support/fill.hpp"

namespace {

template <class Optimizer>
void optimizer_step(benchmark::State& state, Optimizer optimizer) {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    auto params = model.parameters();
    std::size_t count = 0;
    xtnn::random_engine rng(3);
    for (auto& p : params) {
        for (auto& g : p.gradient) {
            g = rng.uniform(-1e-2f, 1e-2f);
        }
        count += p.value.size();
    }
    for (auto _ : state) {
        optimizer.step(params);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(count * 4));
}

} // namespace

BENCHMARK_CAPTURE(optimizer_step, sgd, xtnn::sgd({.learning_rate = 0.01}));
BENCHMARK_CAPTURE(optimizer_step, sgd_momentum,
                  xtnn::sgd({.learning_rate = 0.01, .momentum = 0.9, .nesterov = true}));
BENCHMARK_CAPTURE(optimizer_step, adam, xtnn::adam());
BENCHMARK_CAPTURE(optimizer_step, adamw, xtnn::adamw());
BENCHMARK_CAPTURE(optimizer_step, rmsprop, xtnn::rmsprop());
BENCHMARK_CAPTURE(optimizer_step, rmsprop_centered,
                  xtnn::rmsprop({.momentum = 0.9, .centered = true}));
BENCHMARK_CAPTURE(optimizer_step, adagrad, xtnn::adagrad());
