// What the ONNX tests share: the three models of the issue (an MLP, the Keras convnet with batch
// norm, a residual model), trained statistics for batch norm, and running a file through
// OpenCV's ONNX importer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"
#include "support/python.hpp"

namespace xtnn::test {

inline auto onnx_mlp() {
    return sequential{dense{784, 128}, relu{}, dropout{0.2}, dense{128, 10}};
}

// The Keras convnet with batch norm after each convolution (conv - bn - relu - pool).
inline auto onnx_convnet() {
    return sequential{conv2d{1, 8, 3},  batch_norm2d{8},  relu{},        max_pool2d{},
                      conv2d{8, 16, 3}, batch_norm2d{16}, relu{},        max_pool2d{},
                      flatten{},        dropout{0.5},     dense{400, 10}};
}

// Residual blocks, one with a projection.
inline auto onnx_residual() {
    return sequential{dense{20, 16},
                      relu{},
                      residual{sequential{dense{16, 16}, relu{}, dense{16, 16}}},
                      relu{},
                      residual{sequential{dense{16, 8}, tanh{}}, dense{16, 8}},
                      dense{8, 4}};
}

// Every other layer kind on images: augmentation (nothing at inference), "same" and strided
// convolutions without bias, average pooling with and without padding counted, global pooling,
// batch norm without affine parameters, and activations.
inline auto onnx_images() {
    return sequential{
        random_affine<float>({.translation = 0.1, .rotation = 0.05, .zoom = 0.1}),
        conv2d<float>{{.in_channels = 2, .out_channels = 4, .padding = "same"}},
        elu{0.5},
        conv2d<float>{{.in_channels = 4,
                       .out_channels = 6,
                       .kernel_size = {3, 2},
                       .stride = 2,
                       .padding = {1, 0},
                       .bias = false}},
        batch_norm2d{.num_features = 6, .affine = false},
        leaky_relu{0.1},
        avg_pool2d{.kernel_size = 3, .stride = 1, .padding = 1, .count_include_pad = false},
        sigmoid{},
        avg_pool2d{.kernel_size = 2, .stride = 1, .padding = 1},
        max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1},
        softplus{},
        global_avg_pool2d{},
        dense{6, 5},
        identity{},
        softmax{}};
}

// gelu (both forms), batch norm of features, log_softmax.
inline auto onnx_features() {
    return sequential{
        dense{6, 8}, gelu{},       batch_norm1d{8}, dense{8, 8}, gelu{.approximate = true},
        dense{8, 3}, log_softmax{}};
}

// Gives every batch norm running statistics other than 0 and 1 (a few training forwards).
template <class Model, class X>
void warm_up_statistics(Model& model, const X& x) {
    for (int i = 0; i < 3; ++i) {
        (void)model.forward(x, mode::training);
    }
}

// Writes `x` as raw float32 for NumPy's fromfile.
template <class X>
void write_raw(const std::filesystem::path& path, const X& x) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(x.data()),
              static_cast<std::streamsize>(x.size() * sizeof(float)));
    REQUIRE(out.good());
}

// The shape as a Python tuple: "(2, 1, 28, 28)".
template <class S>
std::string python_shape(const S& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        s += std::to_string(shape[i]) + ", ";
    }
    return s + ")";
}

// What OpenCV's ONNX importer computes for the input in `raw`.
template <class S>
std::vector<float> opencv_outputs(const std::filesystem::path& onnx_file,
                                  const std::filesystem::path& raw, const S& shape) {
    return parse_numbers<float>(
        run_python("import cv2, numpy as np; net = cv2.dnn.readNetFromONNX('" + onnx_file.string() +
                   "'); net.setInput(np.fromfile('" + raw.string() + "', np.float32).reshape(" +
                   python_shape(shape) +
                   ")); print(' '.join(repr(float(v)) for v in net.forward().flatten()))"));
}

// Whether two outputs agree within `relative` of the larger magnitude (and a tiny margin).
template <class Y>
void require_close(const Y& expected, const std::vector<float>& got, double relative = 1e-5) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("output " << i);
        REQUIRE(got[i] == Approx(expected.data()[i]).epsilon(relative).margin(1e-6));
    }
}

} // namespace xtnn::test
