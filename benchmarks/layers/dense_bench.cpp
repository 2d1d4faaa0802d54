// dense forward and backward at the MNIST shapes (784 -> 128, 128 -> 10) and those of a wider
// net (784 -> 1024 -> 1024 -> 10), batch 1, 32, 128 and 256, next to the bare sgemm calls they
// are built on: each dense figure reads as a fraction of its sgemm ceiling.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_dense
#include <cstddef>

#include <benchmark/benchmark.h>

#include <xtnn/core/blas.hpp>
#include <xtnn/layers/dense.hpp>

#include "support/counters.hpp"
#include "support/fill.hpp"

namespace {

using xtnn::bench::filled;
using xtnn::bench::set_counters;

struct dims {
    std::size_t batch, in, out;
    explicit dims(const benchmark::State& state)
        : batch(static_cast<std::size_t>(state.range(0))),
          in(static_cast<std::size_t>(state.range(1))),
          out(static_cast<std::size_t>(state.range(2))) {}
    double flops() const { return 2.0 * static_cast<double>(batch * in * out); }
};

void dense_forward(benchmark::State& state) {
    const dims d(state);
    xtnn::dense<float> layer(d.in, d.out);
    const auto x = filled(d.batch, d.in);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{d.batch, d.out});
    for (auto _ : state) {
        layer.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, d.flops(), d.batch);
}

// The weight gradient and the input gradient: two products.
void dense_backward(benchmark::State& state) {
    const dims d(state);
    xtnn::dense<float> layer(d.in, d.out);
    const auto x = filled(d.batch, d.in);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{d.batch, d.out});
    layer.forward(x, y);
    const auto dy = filled(d.batch, d.out);
    xtnn::tensor<float, 2> dx(x.shape());
    for (auto _ : state) {
        layer.backward(x, y, dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2 * d.flops(), d.batch);
}

// The ceilings: the same products alone, straight into BLAS.
void sgemm_forward_ceiling(benchmark::State& state) {
    const dims d(state);
    const auto x = filled(d.batch, d.in);
    const auto w = filled(d.out, d.in);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{d.batch, d.out});
    for (auto _ : state) {
        xtnn::gemm(x, w, y, {.transpose_b = true});
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, d.flops(), d.batch);
}

void sgemm_backward_ceiling(benchmark::State& state) {
    const dims d(state);
    const auto x = filled(d.batch, d.in);
    const auto w = filled(d.out, d.in);
    const auto dy = filled(d.batch, d.out);
    xtnn::tensor<float, 2> dw(w.shape());
    xtnn::tensor<float, 2> dx(x.shape());
    for (auto _ : state) {
        xtnn::gemm(dy, x, dw, {.transpose_a = true});
        xtnn::gemm(dy, w, dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2 * d.flops(), d.batch);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"batch", "in", "out"});
    for (std::int64_t batch : {1, 32, 128, 256}) {
        for (const auto& [in, out] :
             {std::pair{784, 128}, {128, 10}, {784, 1024}, {1024, 1024}, {1024, 10}}) {
            b->Args({batch, in, out});
        }
    }
}

} // namespace

BENCHMARK(dense_forward)->Apply(shapes);
BENCHMARK(sgemm_forward_ceiling)->Apply(shapes);
BENCHMARK(dense_backward)->Apply(shapes);
BENCHMARK(sgemm_backward_ceiling)->Apply(shapes);
