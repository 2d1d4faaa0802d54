// The training step every model benchmark times: forward in training mode, the fused softmax
// cross-entropy, backward, one Adam step, on a fixed batch.
#pragma once

#include <benchmark/benchmark.h>

#include <xtnn/losses/softmax_cross_entropy.hpp>
#include <xtnn/optimizers/adam.hpp>

#include "support/fill.hpp"

namespace xtnn::bench {

/// Times training steps of `model` on inputs `x` (its first extent the batch) and seeded
/// labels, after one untimed step: the first step sizes every buffer and touches its pages
/// (at batch 128 it costs ten warm steps, enough to move a median of a dozen).
template <class Model, class X>
void training_steps(benchmark::State& state, Model& model, const X& x) {
    const auto y = labels(x.shape()[0]);
    auto params = model.parameters();
    adam optimizer;
    const softmax_cross_entropy loss;
    tensor<float, 2> dy;
    const auto step = [&] {
        const auto& logits = model.forward(x, mode::training);
        benchmark::DoNotOptimize(loss.value_and_gradient(logits, y, dy));
        model.backward(x, dy);
        optimizer.step(params);
    };
    step();
    for (auto _ : state) {
        step();
    }
}

} // namespace xtnn::bench
