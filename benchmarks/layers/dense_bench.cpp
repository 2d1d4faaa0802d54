// dense forward and backward at the MNIST shapes (784 -> 128, 128 -> 10) and those of a wider
// net (784 -> 1024 -> 1024 -> 10), batch 1, 32, 128 and 256, next to the bare sgemm calls they
// are built on: each dense figure reads as a fraction of its sgemm ceiling.
// Then each product of the MNIST MLP's step, of batch-1,000 inference and of the wide net's
// step, through xtnn::gemm (xtnn's own sgemm kernels where they run: AVX-512 CPUs whose
// OpenBLAS runs a narrower kernel) and through OpenBLAS directly, next to the core's FMA peak.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_dense
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <benchmark/benchmark.h>

#include <xtnn/core/blas.hpp>
#include <xtnn/layers/dense.hpp>

#include "support/counters.hpp"
#include "support/fill.hpp"
#include "support/peak.hpp"

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

enum class route { xtnn, kernels, openblas };

// C (m, n) = op(A) op(B), op(A) (m, k), through xtnn::gemm (whatever it chooses), through
// xtnn's own AVX-512 kernels whatever the BLAS (`kernels`: to measure them against an
// OpenBLAS that runs its AVX-512 kernel, OPENBLAS_CORETYPE=SkylakeX), or through OpenBLAS's
// cblas_sgemm as xtnn calls it where its kernels do not run (C cleared, then accumulated:
// OpenBLAS 0.3.21's beta = 0 is a separate scalar pass).
void product(benchmark::State& state, route how) {
    if (how == route::kernels && xtnn::active_simd() != xtnn::simd_level::avx512) {
        state.SkipWithError("xtnn's sgemm kernels need AVX-512");
        return;
    }
    const bool ta = state.range(0) != 0, tb = state.range(1) != 0;
    const auto m = static_cast<std::size_t>(state.range(2)),
               n = static_cast<std::size_t>(state.range(3)),
               k = static_cast<std::size_t>(state.range(4));
    const auto a = ta ? filled(k, m) : filled(m, k);
    const auto b = tb ? filled(n, k) : filled(k, n);
    xtnn::tensor<float, 2> c(xtnn::shape<2>{m, n});
    const xtnn::gemm_options options{.transpose_a = ta, .transpose_b = tb};
    for (auto _ : state) {
        if (how == route::xtnn) {
            xtnn::gemm(a, b, c, options);
        } else if (how == route::kernels) {
            xtnn::detail::own_sgemm_run(*xtnn::detail::simd_products(xtnn::simd_level::avx512), ta,
                                        tb, m, n, k, 1.0F, a.data(), a.shape()[1], b.data(),
                                        b.shape()[1], 0.0F, c.data(), n);
        } else {
            std::fill(c.begin(), c.end(), 0.0F);
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                        tb ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                        static_cast<int>(k), 1.0F, a.data(), static_cast<int>(a.shape()[1]),
                        b.data(), static_cast<int>(b.shape()[1]), 1.0F, c.data(),
                        static_cast<int>(n));
        }
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * static_cast<double>(m * n * k), 1);
}

// The MLP's five products at batch 32 and 128 (forward x Wᵀ twice, the output layer's input
// gradient, both weight gradients dyᵀ x), batch-1,000 inference's first, and the wide net's
// three kinds at batch 128.
void products(benchmark::internal::Benchmark* b) {
    b->ArgNames({"ta", "tb", "m", "n", "k"});
    for (std::int64_t batch : {32, 128}) {
        b->Args({0, 1, batch, 128, 784});
        b->Args({0, 1, batch, 10, 128});
        b->Args({0, 0, batch, 128, 10});
        b->Args({1, 0, 10, 128, batch});
        b->Args({1, 0, 128, 784, batch});
    }
    b->Args({0, 1, 1000, 128, 784});
    b->Args({0, 1, 128, 1024, 1024});
    b->Args({0, 0, 128, 1024, 1024});
    b->Args({1, 0, 1024, 1024, 128});
}

} // namespace

BENCHMARK_CAPTURE(product, xtnn, route::xtnn)->Apply(products);
BENCHMARK_CAPTURE(product, kernels, route::kernels)->Apply(products);
BENCHMARK_CAPTURE(product, openblas, route::openblas)->Apply(products);
BENCHMARK(xtnn::bench::fma_peak);
BENCHMARK(dense_forward)->Apply(shapes);
BENCHMARK(sgemm_forward_ceiling)->Apply(shapes);
BENCHMARK(dense_backward)->Apply(shapes);
BENCHMARK(sgemm_backward_ceiling)->Apply(shapes);
