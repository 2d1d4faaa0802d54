// The Keras convnet (conv 32 3x3, relu, max-pool 2, conv 64 3x3, relu, max-pool 2, flatten,
// dropout 0.5, dense 10; softmax cross-entropy, Adam): one training step (whole, and as fit
// runs it, by groups of samples) next to the sgemm ceiling of its products, single-image inference
// latency, and its memory-bound layers (max pooling, and batch norm in training) in bytes per
// second; the augmentation the model for people's digits trains behind (random_affine). Run:
// OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_cnn
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>

#include <xtnn/xtnn.hpp>

#include "support/counters.hpp"
#include "support/fill.hpp"
#include "support/models.hpp"
#include "support/training.hpp"

namespace {

using xtnn::bench::filled;
using xtnn::bench::keras_convnet;

xtnn::tensor<float, 4> images(std::size_t batch, std::size_t channels, std::size_t side) {
    const auto flat = filled(batch, channels * side * side, 0.0f, 1.0f);
    xtnn::tensor<float, 4> x(xtnn::shape<4>{batch, channels, side, side});
    std::copy(flat.begin(), flat.end(), x.begin());
    return x;
}

// GEMM work per sample of a training step: conv1 forward and weight gradient (no input
// gradient: it is the first layer), conv2 forward and both gradients, dense likewise.
constexpr double conv1_flops = 2.0 * 32 * 9 * 26 * 26;
constexpr double conv2_flops = 2.0 * 64 * 288 * 11 * 11;
constexpr double dense_flops = 2.0 * 1600 * 10;
constexpr double step_flops = 2 * conv1_flops + 3 * conv2_flops + 3 * dense_flops;

void set_counters(benchmark::State& state, std::size_t batch, double flops_per_sample) {
    xtnn::bench::set_counters(state, flops_per_sample * static_cast<double>(batch), batch);
}

void cnn_training_step(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto model = keras_convnet();
    xtnn::bench::training_steps(state, model, images(batch, 1, 28));
    set_counters(state, batch, step_flops);
}

// What fit runs: one epoch of 1,024 samples (not shuffled) a repetition, each step by training
// groups of samples (sequential::training_group: the model trains its samples apart), next to
// cnn_training_step's whole batches. items_per_second counts samples.
void cnn_fit(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t samples = 1024;
    auto model = keras_convnet();
    const auto x = images(samples, 1, 28);
    const auto y = xtnn::bench::labels(samples);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
    const xtnn::fit_options options{
        .epochs = 1, .batch_size = batch, .shuffle = false, .verbose = xtnn::verbosity::silent};
    trainer.fit(x, y, options); // sizes the buffers
    for (auto _ : state) {
        trainer.fit(x, y, options);
    }
    state.counters["group"] = static_cast<double>(model.training_group({batch, 1, 28, 28}));
    set_counters(state, samples, step_flops);
}

// The ceiling of that step: its products alone, each one sgemm over the whole batch (the
// unfolded shapes), with the step's transposes.
void cnn_sgemm_ceiling(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const std::size_t p1 = batch * 26 * 26, p2 = batch * 11 * 11;
    const auto w1 = filled(32, 9), c1 = filled(9, p1), g1 = filled(32, p1);
    const auto w2 = filled(64, 288), c2 = filled(288, p2), g2 = filled(64, p2);
    const auto w3 = filled(10, 1600), h = filled(batch, 1600), g3 = filled(batch, 10);
    xtnn::tensor<float, 2> y1(g1.shape()), dw1(w1.shape()), y2(g2.shape()), dw2(w2.shape()),
        dc2(c2.shape()), z(g3.shape()), dw3(w3.shape()), dh(h.shape());
    for (auto _ : state) {
        xtnn::gemm(w1, c1, y1);
        xtnn::gemm(w2, c2, y2);
        xtnn::gemm(h, w3, z, {.transpose_b = true});
        xtnn::gemm(g3, h, dw3, {.transpose_a = true});
        xtnn::gemm(g3, w3, dh);
        xtnn::gemm(g2, c2, dw2, {.transpose_b = true});
        xtnn::gemm(w2, g2, dc2, {.transpose_a = true});
        xtnn::gemm(g1, c1, dw1, {.transpose_b = true});
        benchmark::DoNotOptimize(dw1.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, batch, step_flops);
}

// Inference in the model's buffers, warm: one image, as the recognizer reads a photo, 32 and
// 1,000 (a cold first call at batch 1,000 costs 17 warm ones, and Google Benchmark times it
// alone when it outlasts the minimum time). cnn_inference_whole: the same with the whole
// batch through each layer in turn (no cache-sized groups), for comparison.
void cnn_inference_in_groups(benchmark::State& state, std::size_t group) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto model = keras_convnet();
    model.set_inference_group(group);
    const auto x = images(batch, 1, 28);
    model.forward(x, xtnn::mode::inference);
    for (auto _ : state) {
        const auto& logits = model.forward(x, xtnn::mode::inference);
        benchmark::DoNotOptimize(logits.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, batch, conv1_flops + conv2_flops + dense_flops);
}
void cnn_inference(benchmark::State& state) {
    cnn_inference_in_groups(state, 0);
}
void cnn_inference_whole(benchmark::State& state) {
    cnn_inference_in_groups(state, SIZE_MAX);
}

// Bytes: what a pass must read and write at least (input and output; backward also reads the
// output gradient and writes the input gradient).
void set_bytes(benchmark::State& state, std::size_t values) {
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(values * sizeof(float)));
}

// The convnet's first pooling: (batch, 32, 26, 26) -> (batch, 32, 13, 13).
void max_pool2d_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::max_pool2d_layer<float> pool;
    const auto x = images(batch, 32, 26);
    xtnn::tensor<float, 4> y(pool.output_shape(x.shape()));
    for (auto _ : state) {
        pool.forward(x, y, xtnn::mode::training);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, x.size() + y.size());
}

void max_pool2d_backward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::max_pool2d_layer<float> pool;
    const auto x = images(batch, 32, 26);
    xtnn::tensor<float, 4> y(pool.output_shape(x.shape()));
    pool.forward(x, y, xtnn::mode::training);
    const auto dy = images(batch, 32, 13);
    xtnn::tensor<float, 4> dx(x.shape());
    for (auto _ : state) {
        pool.backward(x, y, dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, dy.size() + dx.size());
}

// Batch norm over the first convolution's output, in training (batch statistics).
void batch_norm2d_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::batch_norm_layer<float, 4> norm(xtnn::batch_norm2d{32});
    const auto x = images(batch, 32, 26);
    xtnn::tensor<float, 4> y(x.shape());
    for (auto _ : state) {
        norm.forward(x, y, xtnn::mode::training);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, x.size() + y.size());
}

void batch_norm2d_backward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::batch_norm_layer<float, 4> norm(xtnn::batch_norm2d{32});
    const auto x = images(batch, 32, 26);
    xtnn::tensor<float, 4> y(x.shape());
    norm.forward(x, y, xtnn::mode::training);
    const auto dy = images(batch, 32, 26);
    xtnn::tensor<float, 4> dx(x.shape());
    for (auto _ : state) {
        norm.backward(x, y, dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, x.size() + dy.size() + dx.size());
}

// Augmentation of a batch of MNIST digits (the recommended model's random_affine): one bilinear
// warp per image, drawn anew every batch; next to cnn_training_step, its share of a step.
void random_affine_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::random_affine<float> augment({.translation = 0.1, .rotation = 0.03, .zoom = 0.1});
    const auto x = images(batch, 1, 28);
    xtnn::tensor<float, 4> y(x.shape());
    for (auto _ : state) {
        augment.forward(x, y, xtnn::mode::training);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, x.size() + y.size());
}

} // namespace

BENCHMARK(random_affine_forward)->ArgName("batch")->Arg(32);
BENCHMARK(cnn_training_step)->ArgName("batch")->Arg(32)->Arg(64)->Arg(128);
BENCHMARK(cnn_fit)->ArgName("batch")->Arg(32)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(cnn_sgemm_ceiling)->ArgName("batch")->Arg(32)->Arg(64)->Arg(128);
BENCHMARK(cnn_inference)->ArgName("batch")->Arg(1)->Arg(32)->Arg(1000);
BENCHMARK(cnn_inference_whole)->ArgName("batch")->Arg(1000);
BENCHMARK(max_pool2d_forward)->ArgName("batch")->Arg(64);
BENCHMARK(max_pool2d_backward)->ArgName("batch")->Arg(64);
BENCHMARK(batch_norm2d_forward)->ArgName("batch")->Arg(64);
BENCHMARK(batch_norm2d_backward)->ArgName("batch")->Arg(64);
