// dense forward and backward at MNIST shapes, next to the plain sgemm they are built on.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_dense
#include <cstddef>

#include <benchmark/benchmark.h>

#include <xtnn/core/blas.hpp>
#include <xtnn/layers/dense.hpp>

namespace {

xtnn::tensor<float, 2> filled(std::size_t rows, std::size_t cols) {
    xtnn::tensor<float, 2> t(xtnn::shape<2>{rows, cols});
    xtnn::random_engine rng(1);
    for (auto& v : t) {
        v = rng.uniform(-1.0f, 1.0f);
    }
    return t;
}

void set_counters(benchmark::State& state, double flops_per_iteration, std::size_t batch) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void dense_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto in = static_cast<std::size_t>(state.range(1));
    const auto out = static_cast<std::size_t>(state.range(2));
    xtnn::dense<float> layer(in, out);
    const auto x = filled(batch, in);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{batch, out});
    for (auto _ : state) {
        layer.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * static_cast<double>(batch * in * out), batch);
}

void dense_backward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto in = static_cast<std::size_t>(state.range(1));
    const auto out = static_cast<std::size_t>(state.range(2));
    xtnn::dense<float> layer(in, out);
    const auto x = filled(batch, in);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{batch, out});
    layer.forward(x, y);
    const auto dy = filled(batch, out);
    xtnn::tensor<float, 2> dx(x.shape());
    for (auto _ : state) {
        layer.backward(x, y, dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 4.0 * static_cast<double>(batch * in * out), batch);
}

// The ceiling: the forward product alone, straight into BLAS.
void sgemm_forward_ceiling(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto in = static_cast<std::size_t>(state.range(1));
    const auto out = static_cast<std::size_t>(state.range(2));
    const auto x = filled(batch, in);
    const auto w = filled(out, in);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{batch, out});
    for (auto _ : state) {
        xtnn::gemm(x, w, y, {.transpose_b = true});
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * static_cast<double>(batch * in * out), batch);
}

void mnist_shapes(benchmark::internal::Benchmark* b) {
    for (std::int64_t batch : {1, 32, 128, 256}) {
        b->Args({batch, 784, 128});
        b->Args({batch, 128, 10});
    }
}

} // namespace

BENCHMARK(dense_forward)->Apply(mnist_shapes);
BENCHMARK(sgemm_forward_ceiling)->Apply(mnist_shapes);
BENCHMARK(dense_backward)->Apply(mnist_shapes);
