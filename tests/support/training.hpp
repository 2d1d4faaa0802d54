// A plain training loop over sequential + loss + optimizer, as a user writes one without fit().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <variant>
#include <vector>

#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn::test {

/// Every parameter value of a model, in order (to compare two models' weights).
template <class Model>
std::vector<typename Model::value_type> parameters_of(Model& model) {
    std::vector<typename Model::value_type> all;
    for (const auto& p : model.parameters()) {
        all.insert(all.end(), p.value.begin(), p.value.end());
    }
    return all;
}

/// Every parameter and buffer of a model, as bytes: equal only if equal bit for bit.
template <class Model>
std::vector<std::byte> state_bytes(Model& model) {
    std::vector<std::byte> all;
    for (const auto& p : model.parameters()) {
        const auto bytes = std::as_bytes(p.value);
        all.insert(all.end(), bytes.begin(), bytes.end());
    }
    for (const auto& b : model.buffers()) {
        std::visit(
            [&](auto v) {
                const auto bytes = std::as_bytes(v);
                all.insert(all.end(), bytes.begin(), bytes.end());
            },
            b.value);
    }
    return all;
}

/// Trains `model` for `epochs` epochs of shuffled mini-batches; returns the last epoch's mean loss.
template <class Model, class Loss, class Optimizer, class T, class Label>
double train(Model& model, const Loss& loss, Optimizer& opt, const tensor<T, 2>& x,
             const tensor<Label, 1>& y, std::size_t epochs, std::size_t batch, std::uint64_t seed) {
    const std::size_t n = x.shape()[0];
    const std::size_t features = x.shape()[1];
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    random_engine rng(seed);
    auto params = model.parameters();
    tensor<T, 2> xb;
    tensor<Label, 1> yb;
    tensor<T, 2> dy;
    double last = 0;
    for (std::size_t e = 0; e < epochs; ++e) {
        rng.shuffle(std::span<std::size_t>(order));
        double total = 0;
        std::size_t batches = 0;
        for (std::size_t start = 0; start < n; start += batch) {
            const std::size_t b = std::min(batch, n - start);
            if (xb.shape()[0] != b) {
                xb.resize(shape<2>{b, features});
                yb.resize(shape<1>{b});
            }
            for (std::size_t r = 0; r < b; ++r) {
                const std::size_t src = order[start + r];
                std::copy_n(x.data() + src * features, features, xb.data() + r * features);
                yb(r) = y(src);
            }
            const auto& out = model.forward(xb, mode::training);
            total += static_cast<double>(loss.value_and_gradient(out, yb, dy));
            model.backward(xb, dy);
            opt.step(params);
            ++batches;
        }
        last = total / static_cast<double>(batches);
    }
    return last;
}

/// The fraction of rows whose largest output is at the label.
template <class Model, class T, class Label>
double accuracy(Model& model, const tensor<T, 2>& x, const tensor<Label, 1>& y) {
    const auto& out = model.forward(x, mode::inference);
    const std::size_t classes = out.shape()[1];
    std::size_t right = 0;
    for (std::size_t r = 0; r < out.shape()[0]; ++r) {
        const T* row = out.data() + r * classes;
        const auto best = static_cast<std::size_t>(std::max_element(row, row + classes) - row);
        right += best == static_cast<std::size_t>(y(r)) ? 1U : 0U;
    }
    return static_cast<double>(right) / static_cast<double>(out.shape()[0]);
}

} // namespace xtnn::test
