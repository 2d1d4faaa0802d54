// Every activation, forward and backward, over a (256, 1024) batch: the elementwise work
// around a wide dense layer; and dropout's training forward (its masks drawn anew each time).
// Items are elements; the bytes counter is what the loop streams.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_activations
#include <cstddef>

#include <benchmark/benchmark.h>

#include <xtnn/xtnn.hpp>

#include "support/fill.hpp"

namespace {

constexpr std::size_t rows = 256, cols = 1024;

template <class A>
void activation_forward(benchmark::State& state) {
    xtnn::activation_layer<A, float, 2> layer;
    const auto x = xtnn::bench::filled(rows, cols, -3.0f, 3.0f);
    xtnn::tensor<float, 2> y(x.shape());
    for (auto _ : state) {
        layer.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows * cols));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(2 * rows * cols * 4));
}

template <class A>
void activation_backward(benchmark::State& state) {
    xtnn::activation_layer<A, float, 2> layer;
    const auto x = xtnn::bench::filled(rows, cols, -3.0f, 3.0f);
    xtnn::tensor<float, 2> y(x.shape());
    layer.forward(x, y);
    const auto dy = xtnn::bench::filled(rows, cols);
    xtnn::tensor<float, 2> dx(x.shape());
    for (auto _ : state) {
        layer.backward(x, y, dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows * cols));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(4 * rows * cols * 4));
}

// Dropout 0.5 in training: 64-bit draws from the layer's engine, two elements each, then the
// mask and the product (the Keras convnet's dropout before its dense layer is 1,600 values a
// sample).
void dropout_training_forward(benchmark::State& state) {
    xtnn::dropout_layer<float, 2> layer(xtnn::dropout{.rate = 0.5, .seed = 1});
    const auto x = xtnn::bench::filled(rows, cols);
    xtnn::tensor<float, 2> y(x.shape());
    for (auto _ : state) {
        layer.forward(x, y, xtnn::mode::training);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows * cols));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(3 * rows * cols * 4));
}
BENCHMARK(dropout_training_forward);

} // namespace

#define XTNN_ACTIVATION_BENCHMARKS(A)                                                              \
    BENCHMARK_TEMPLATE(activation_forward, A);                                                     \
    BENCHMARK_TEMPLATE(activation_backward, A)

XTNN_ACTIVATION_BENCHMARKS(xtnn::relu);
XTNN_ACTIVATION_BENCHMARKS(xtnn::leaky_relu);
XTNN_ACTIVATION_BENCHMARKS(xtnn::elu);
XTNN_ACTIVATION_BENCHMARKS(xtnn::gelu);
XTNN_ACTIVATION_BENCHMARKS(xtnn::sigmoid);
XTNN_ACTIVATION_BENCHMARKS(xtnn::tanh);
XTNN_ACTIVATION_BENCHMARKS(xtnn::softplus);
