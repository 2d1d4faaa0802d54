// The models several benchmarks train: the Keras tutorial's convnet.
#pragma once

#include <xtnn/xtnn.hpp>

namespace xtnn::bench {

/// conv 32 3x3, relu, max-pool 2, conv 64 3x3, relu, max-pool 2, flatten, dropout 0.5, dense 10
/// on 28 x 28 digits (34,826 parameters).
inline auto keras_convnet() {
    return sequential{conv2d{1, 32, 3}, relu{},    max_pool2d{}, conv2d{32, 64, 3}, relu{},
                      max_pool2d{},     flatten{}, dropout{0.5}, dense{1600, 10}};
}

} // namespace xtnn::bench
