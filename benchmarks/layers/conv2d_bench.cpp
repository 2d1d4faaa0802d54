// conv2d forward and backward for the Keras convnet's two layers (1 -> 32 on 28x28, 32 -> 64 on
// 13x13, both 3x3) and a ResNet stage's (64 -> 64, 3x3 "same" on 32x32), at batch 1, 32 and
// 128, by each algorithm (0: unfold, im2col and OpenBLAS; 1: xtnn's direct kernels at the
// CPU's widest vectors; 2: Winograd's F(4 x 4, 3 x 3), forward and input gradient, for the
// layers of 32 and 64 channels), next to two ceilings: the same products (forward one, backward
// two) alone in OpenBLAS, on the unfolded shapes, and the core's FMA peak (fma_peak: independent
// fused multiply-adds at the widest vector the CPU has, xtnn::detected_simd()).
// conv2d_weight_gradient is backward without the input gradient (a model's first layer).
// resnet18_convolutions runs all of resnet18's convolutions (64 x 64 images) by each
// algorithm and by automatic's choice, forward alone and forward with backward.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_conv2d
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <xtnn/core/blas.hpp>
#include <xtnn/core/cpu.hpp>
#include <xtnn/layers/conv2d.hpp>

#include "support/counters.hpp"
#include "support/fill.hpp"
#include "support/peak.hpp"

namespace {

using xtnn::bench::filled;
using xtnn::bench::set_counters;

// batch, in and out channels, image side (square), padding (1: "same" for 3x3), algorithm.
struct dims {
    std::size_t batch, in, out, side, padding;
    xtnn::conv_algorithm algorithm;
    explicit dims(const benchmark::State& state)
        : batch(static_cast<std::size_t>(state.range(0))),
          in(static_cast<std::size_t>(state.range(1))),
          out(static_cast<std::size_t>(state.range(2))),
          side(static_cast<std::size_t>(state.range(3))),
          padding(static_cast<std::size_t>(state.range(4))),
          algorithm(std::array{
              xtnn::conv_algorithm::unfold, xtnn::conv_algorithm::direct,
              xtnn::conv_algorithm::winograd}[static_cast<std::size_t>(state.range(5))]) {}
    std::size_t output_side() const { return side + 2 * padding - 2; }
    std::size_t positions() const { return batch * output_side() * output_side(); }
    std::size_t taps() const { return in * 9; }
    double flops() const {
        return 2.0 * static_cast<double>(out) * static_cast<double>(taps()) *
               static_cast<double>(positions());
    }
    xtnn::conv2d<float> layer() const {
        return xtnn::conv2d<float>({.in_channels = in,
                                    .out_channels = out,
                                    .kernel_size = 3,
                                    .padding = padding,
                                    .algorithm = algorithm});
    }
    xtnn::tensor<float, 4> input() const {
        const auto flat = filled(batch, in * side * side);
        xtnn::tensor<float, 4> x(xtnn::shape<4>{batch, in, side, side});
        std::copy(flat.begin(), flat.end(), x.begin());
        return x;
    }
};

void conv2d_forward(benchmark::State& state) {
    const dims d(state);
    auto layer = d.layer();
    const auto x = d.input();
    xtnn::tensor<float, 4> y(layer.output_shape(x.shape()));
    for (auto _ : state) {
        layer.forward(x, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, d.flops(), d.batch);
}

// A layer after a forward pass in training, with an output gradient: what backward needs.
struct after_forward {
    xtnn::conv2d<float> layer;
    xtnn::tensor<float, 4> x, y, dy;
    explicit after_forward(const dims& d) : layer(d.layer()), x(d.input()) {
        y.resize(layer.output_shape(x.shape()));
        layer.forward(x, y, xtnn::mode::training);
        dy.resize(y.shape());
        const auto flat = filled(1, dy.size());
        std::copy(flat.begin(), flat.end(), dy.begin());
    }
};

// The weight gradient and the input gradient (unfold: two products, and col2im).
void conv2d_backward(benchmark::State& state) {
    const dims d(state);
    after_forward f(d);
    xtnn::tensor<float, 4> dx(f.x.shape());
    for (auto _ : state) {
        f.layer.backward(f.x, f.y, f.dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2 * d.flops(), d.batch);
}

// The weight gradient alone, as a model's first layer runs backward (no input gradient).
void conv2d_weight_gradient(benchmark::State& state) {
    const dims d(state);
    after_forward f(d);
    for (auto _ : state) {
        f.layer.backward(f.x, f.y, f.dy, nullptr);
        benchmark::ClobberMemory();
    }
    set_counters(state, d.flops(), d.batch);
}

// The ceilings: (out, taps) · (taps, positions), then its two backward products, alone.
void sgemm_forward_ceiling(benchmark::State& state) {
    const dims d(state);
    const auto w = filled(d.out, d.taps());
    const auto columns = filled(d.taps(), d.positions());
    xtnn::tensor<float, 2> y(xtnn::shape<2>{d.out, d.positions()});
    for (auto _ : state) {
        xtnn::gemm(w, columns, y);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, d.flops(), d.batch);
}

void sgemm_backward_ceiling(benchmark::State& state) {
    const dims d(state);
    const auto w = filled(d.out, d.taps());
    const auto columns = filled(d.taps(), d.positions());
    const auto dy = filled(d.out, d.positions());
    xtnn::tensor<float, 2> dw(w.shape());
    xtnn::tensor<float, 2> dcolumns(columns.shape());
    for (auto _ : state) {
        xtnn::gemm(dy, columns, dw, {.transpose_b = true});
        xtnn::gemm(w, dy, dcolumns, {.transpose_a = true});
        benchmark::DoNotOptimize(dcolumns.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2 * d.flops(), d.batch);
}

void add_shapes(benchmark::internal::Benchmark* b, std::int64_t algorithms) {
    b->ArgNames({"batch", "in", "out", "side", "padding", "algorithm"});
    for (std::int64_t batch : {1, 32, 128}) {
        for (std::int64_t algorithm = 0; algorithm < algorithms; ++algorithm) {
            if (algorithm < 2) { // Winograd's transforms do not pay on 1 channel
                b->Args({batch, 1, 32, 28, 0, algorithm}); // the Keras convnet's first layer
            }
            b->Args({batch, 32, 64, 13, 0, algorithm}); // its second, after a 2x2 pooling
            b->Args({batch, 64, 64, 32, 1, algorithm}); // a ResNet stage (302 MB unfolded at 128)
        }
    }
}
void shapes(benchmark::internal::Benchmark* b) {
    add_shapes(b, 3);
    // resnet18's deep layers on 64 x 64 images: many channels on small planes.
    for (std::int64_t batch : {1, 8}) {
        for (std::int64_t algorithm = 0; algorithm < 3; ++algorithm) {
            b->Args({batch, 256, 256, 4, 1, algorithm}); // Winograd's F(2 x 2, 3 x 3)
            if (algorithm < 2) {
                b->Args({batch, 512, 512, 2, 1, algorithm});
            }
        }
        // Its second stage on 64 x 64 images and third on 224 x 224, where Winograd's
        // transformed filters (2.4 and 9.4 MB) come from memory.
        for (std::int64_t algorithm = 1; algorithm < 3; ++algorithm) {
            b->Args({batch, 128, 128, 8, 1, algorithm});
            b->Args({batch, 256, 256, 14, 1, algorithm});
        }
        // Its fourth stage on 224 x 224 images: 512 channels on 7 x 7 planes (automatic: the
        // direct kernels; Winograd's 36 MB of transformed filters only pay at batch 8).
        for (std::int64_t algorithm = 1; algorithm < 3; ++algorithm) {
            b->Args({batch, 512, 512, 7, 1, algorithm});
        }
    }
}
void ceiling_shapes(benchmark::internal::Benchmark* b) {
    add_shapes(b, 1);
}

// resnet18's convolutions on 64 x 64 images, each as often as the model has it: in and out
// channels, input side, kernel, stride, padding, count.
struct resnet_layer {
    std::size_t in, out, side, kernel, stride, padding, count;
};
constexpr resnet_layer resnet18_layers[] = {
    {3, 64, 64, 7, 2, 3, 1},   {64, 64, 16, 3, 1, 1, 4},  {64, 128, 16, 3, 2, 1, 1},
    {64, 128, 16, 1, 2, 0, 1}, {128, 128, 8, 3, 1, 1, 3}, {128, 256, 8, 3, 2, 1, 1},
    {128, 256, 8, 1, 2, 0, 1}, {256, 256, 4, 3, 1, 1, 3}, {256, 512, 4, 3, 2, 1, 1},
    {256, 512, 4, 1, 2, 0, 1}, {512, 512, 2, 3, 1, 1, 3}};

// Every convolution of resnet18 forward (training mode) and, with `backward`, back (both
// gradients, the stem's weight gradient alone as a model's first layer), by one algorithm
// (0: unfold, 1: direct, 2: automatic, what a model runs). Reports milliseconds per step
// of the convolutions alone, and GFLOP/s over all of them.
void resnet18_convolutions(benchmark::State& state, bool backward) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto algorithm =
        std::array{xtnn::conv_algorithm::unfold, xtnn::conv_algorithm::direct,
                   xtnn::conv_algorithm::automatic}[static_cast<std::size_t>(state.range(1))];
    struct run {
        xtnn::conv2d<float> layer;
        xtnn::tensor<float, 4> x, y, dy, dx;
        std::size_t count;
    };
    std::vector<run> runs;
    double flops = 0;
    for (const resnet_layer& l : resnet18_layers) {
        xtnn::conv2d<float> layer({.in_channels = l.in,
                                   .out_channels = l.out,
                                   .kernel_size = l.kernel,
                                   .stride = l.stride,
                                   .padding = l.padding,
                                   .algorithm = algorithm});
        const xtnn::shape<4> in{batch, l.in, l.side, l.side};
        xtnn::tensor<float, 4> x(in);
        const auto flat = filled(batch, x.size() / batch);
        std::copy(flat.begin(), flat.end(), x.begin());
        xtnn::tensor<float, 4> y(layer.output_shape(in));
        xtnn::tensor<float, 4> dy(y.shape());
        std::fill(dy.begin(), dy.end(), 0.01F);
        const double macs = static_cast<double>(y.size() * l.in * l.kernel * l.kernel);
        // Forward one product's worth, backward two (the stem: the weight gradient alone).
        flops += 2.0 * macs * static_cast<double>(l.count) * (backward ? (l.in == 3 ? 2 : 3) : 1);
        runs.push_back({std::move(layer), std::move(x), std::move(y), std::move(dy),
                        xtnn::tensor<float, 4>(in), l.count});
    }
    for (auto _ : state) {
        for (run& r : runs) {
            for (std::size_t i = 0; i < r.count; ++i) {
                r.layer.forward(r.x, r.y, xtnn::mode::training);
                if (backward) {
                    r.layer.backward(r.x, r.y, r.dy, r.x.shape()[1] == 3 ? nullptr : &r.dx);
                }
            }
        }
        benchmark::ClobberMemory();
    }
    set_counters(state, flops, batch);
    state.counters["ms"] =
        benchmark::Counter(1e3 * static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void resnet18_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"batch", "algorithm"});
    for (std::int64_t batch : {1, 8}) {
        for (std::int64_t algorithm = 0; algorithm < 3; ++algorithm) {
            b->Args({batch, algorithm});
        }
    }
}

} // namespace

BENCHMARK(conv2d_forward)->Apply(shapes);
BENCHMARK(sgemm_forward_ceiling)->Apply(ceiling_shapes);
BENCHMARK(conv2d_backward)->Apply(shapes);
BENCHMARK(conv2d_weight_gradient)->Apply(shapes);
BENCHMARK(sgemm_backward_ceiling)->Apply(ceiling_shapes);
BENCHMARK_CAPTURE(resnet18_convolutions, forward, false)->Apply(resnet18_shapes);
BENCHMARK_CAPTURE(resnet18_convolutions, training, true)->Apply(resnet18_shapes);
BENCHMARK(xtnn::bench::fma_peak);
