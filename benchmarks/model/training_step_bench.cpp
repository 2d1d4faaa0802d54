// One whole training step of the MNIST MLP (784-128-10, relu, softmax cross-entropy, Adam):
// forward, loss, backward, optimizer step. Run:
// OPENBLAS_NUM_THREADS=1 build/bench/benchmarks/xtnn_bench_training_step
#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>

#include <xtnn/xtnn.hpp>

namespace {

// Uniform pixels and random labels: MNIST-shaped data for timing (values do not matter).
void fill_mnist_like(xtnn::tensor<float, 2>& x, xtnn::tensor<std::int64_t, 1>& y) {
    xtnn::random_engine rng(1);
    for (auto& v : x) {
        v = rng.uniform(0.0f, 1.0f);
    }
    for (auto& v : y) {
        v = static_cast<std::int64_t>(rng.below(10));
    }
}

void mlp_training_step(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    xtnn::tensor<float, 2> x(xtnn::shape<2>{batch, 784});
    xtnn::tensor<std::int64_t, 1> y(xtnn::shape<1>{batch});
    fill_mnist_like(x, y);
    auto params = model.parameters();
    xtnn::adam optimizer;
    const xtnn::softmax_cross_entropy loss;
    xtnn::tensor<float, 2> dy;
    for (auto _ : state) {
        const auto& logits = model.forward(x, xtnn::mode::training);
        benchmark::DoNotOptimize(loss.value_and_gradient(logits, y, dy));
        model.backward(x, dy);
        optimizer.step(params);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
    // GEMM work per sample: forward 2(784·128 + 128·10), weight gradients the same, and the
    // hidden layer's input gradient 2·128·10 (the first layer's input gradient is skipped).
    const double flops = 2.0 * (2.0 * (784.0 * 128 + 128.0 * 10) + 128.0 * 10);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(batch) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// The same training, through trainer::fit: one epoch of 8,192 shuffled samples (gathering,
// metrics and logs included), to show what fit adds per batch.
void mlp_fit_epoch(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const std::size_t samples = 8192;
    xtnn::tensor<float, 2> x(xtnn::shape<2>{samples, 784});
    xtnn::tensor<std::int64_t, 1> y(xtnn::shape<1>{samples});
    fill_mnist_like(x, y);
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    for (auto _ : state) {
        trainer.fit(x, y, {.epochs = 1, .batch_size = batch, .verbose = xtnn::verbosity::silent});
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(samples));
}

} // namespace

BENCHMARK(mlp_training_step)->Arg(32)->Arg(128);
BENCHMARK(mlp_fit_epoch)->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond);
