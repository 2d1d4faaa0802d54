// Seeded values for benchmarks (what the values are does not matter for timing, only that
// they are ordinary floats: no denormals, no NaN).
#pragma once

#include <cstddef>
#include <cstdint>

#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn::bench {

/// A (rows, cols) tensor of values uniform in [low, high).
inline tensor<float, 2> filled(std::size_t rows, std::size_t cols, float low = -1.0f,
                               float high = 1.0f, std::uint64_t seed = 1) {
    tensor<float, 2> t(shape<2>{rows, cols});
    random_engine rng(seed);
    for (auto& v : t) {
        v = rng.uniform(low, high);
    }
    return t;
}

/// `n` class labels in [0, classes).
inline tensor<std::int64_t, 1> labels(std::size_t n, std::size_t classes = 10) {
    tensor<std::int64_t, 1> y(shape<1>{n});
    random_engine rng(2);
    for (auto& v : y) {
        v = static_cast<std::int64_t>(rng.below(classes));
    }
    return y;
}

} // namespace xtnn::bench
