// Whole-model figures: one training step of the MNIST MLP (784-128-10, relu, softmax
// cross-entropy, Adam) next to the sgemm ceiling of its five matrix products, the same through
// trainer::fit, a wider MLP's step, and batched inference next to its two products.
// Run: OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_training_step
#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>

#include <xtnn/xtnn.hpp>

#include "support/counters.hpp"
#include "support/fill.hpp"
#include "support/training.hpp"

namespace {

using xtnn::bench::filled;

// GEMM work per sample of the MNIST MLP's step: forward 2(784·128 + 128·10), weight gradients
// the same, and the hidden layer's input gradient 2·128·10 (the first layer's input gradient is
// skipped).
constexpr double mlp_step_flops = 2.0 * (2.0 * (784.0 * 128 + 128.0 * 10) + 128.0 * 10);

void set_counters(benchmark::State& state, std::size_t batch, double flops_per_sample) {
    xtnn::bench::set_counters(state, flops_per_sample * static_cast<double>(batch), batch);
}

template <class Model>
void training_steps(benchmark::State& state, Model& model, std::size_t in) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::bench::training_steps(state, model, filled(batch, in, 0.0f, 1.0f));
}

void mlp_training_step(benchmark::State& state) {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    training_steps(state, model, 784);
    set_counters(state, static_cast<std::size_t>(state.range(0)), mlp_step_flops);
}

// The ceiling of that step: its five products alone, with the same shapes and transposes.
void mlp_sgemm_ceiling(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto x = filled(batch, 784, 0.0f, 1.0f);
    const auto w1 = filled(128, 784), w2 = filled(10, 128);
    const auto dy = filled(batch, 10);
    xtnn::tensor<float, 2> h(xtnn::shape<2>{batch, 128}), z(xtnn::shape<2>{batch, 10});
    xtnn::tensor<float, 2> dh(h.shape()), dw1(w1.shape()), dw2(w2.shape());
    for (auto _ : state) {
        xtnn::gemm(x, w1, h, {.transpose_b = true});
        xtnn::gemm(h, w2, z, {.transpose_b = true});
        xtnn::gemm(dy, h, dw2, {.transpose_a = true});
        xtnn::gemm(dy, w2, dh);
        xtnn::gemm(dh, x, dw1, {.transpose_a = true});
        benchmark::DoNotOptimize(dw1.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, batch, mlp_step_flops);
}

// A wider net: 784-1024-1024-10.
void wide_mlp_training_step(benchmark::State& state) {
    xtnn::sequential model{xtnn::dense{784, 1024}, xtnn::relu{}, xtnn::dense{1024, 1024},
                           xtnn::relu{}, xtnn::dense{1024, 10}};
    training_steps(state, model, 784);
    const double forward = 2.0 * (784.0 * 1024 + 1024.0 * 1024 + 1024.0 * 10);
    const double input_gradients = 2.0 * (1024.0 * 1024 + 1024.0 * 10);
    set_counters(state, static_cast<std::size_t>(state.range(0)), 2 * forward + input_gradients);
}

// The same training through trainer::fit: one epoch of 8,192 shuffled samples (gathering,
// metrics and logs included), to show what fit adds per batch.
void mlp_fit_epoch(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const std::size_t samples = 8192;
    const auto x = filled(samples, 784, 0.0f, 1.0f);
    const auto y = xtnn::bench::labels(samples);
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    for (auto _ : state) {
        trainer.fit(x, y, {.epochs = 1, .batch_size = batch, .verbose = xtnn::verbosity::silent});
    }
    set_counters(state, samples, mlp_step_flops);
}

// Inference: the forward pass alone, in the model's reused buffers (sized by an untimed call).
void mlp_inference(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    const auto x = filled(batch, 784, 0.0f, 1.0f);
    model.forward(x, xtnn::mode::inference);
    for (auto _ : state) {
        benchmark::DoNotOptimize(model.forward(x, xtnn::mode::inference).data());
        benchmark::ClobberMemory();
    }
    set_counters(state, batch, 2.0 * (784.0 * 128 + 128.0 * 10));
}

// The ceiling of inference: its two products alone, with the same shapes and transposes.
void mlp_inference_sgemm_ceiling(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto x = filled(batch, 784, 0.0f, 1.0f);
    const auto w1 = filled(128, 784), w2 = filled(10, 128);
    xtnn::tensor<float, 2> h(xtnn::shape<2>{batch, 128}), z(xtnn::shape<2>{batch, 10});
    for (auto _ : state) {
        xtnn::gemm(x, w1, h, {.transpose_b = true});
        xtnn::gemm(h, w2, z, {.transpose_b = true});
        benchmark::DoNotOptimize(z.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, batch, 2.0 * (784.0 * 128 + 128.0 * 10));
}

} // namespace

BENCHMARK(mlp_training_step)->ArgName("batch")->Arg(1)->Arg(32)->Arg(128)->Arg(256);
BENCHMARK(mlp_sgemm_ceiling)->ArgName("batch")->Arg(1)->Arg(32)->Arg(128)->Arg(256);
BENCHMARK(wide_mlp_training_step)->ArgName("batch")->Arg(32)->Arg(128)->Arg(256);
BENCHMARK(mlp_fit_epoch)->ArgName("batch")->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_inference)->ArgName("batch")->Arg(1)->Arg(32)->Arg(256)->Arg(1000);
BENCHMARK(mlp_inference_sgemm_ceiling)->ArgName("batch")->Arg(1)->Arg(32)->Arg(256)->Arg(1000);
