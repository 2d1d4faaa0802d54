// torchvision's classification architectures (0.14) as xtnn model types: resnet18, resnet50,
// vgg11_bn, layer for layer, so that their ONNX exports load into them.
#pragma once

#include <cstddef>

#include <xtnn/xtnn.hpp>

namespace xtnn::test::torchvision {

// A bias-free k × k convolution, as torchvision's conv3x3 and conv1x1.
inline auto conv(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride,
                 std::size_t padding) {
    return conv2d<float>({.in_channels = in,
                          .out_channels = out,
                          .kernel_size = kernel,
                          .stride = stride,
                          .padding = padding,
                          .bias = false});
}

// ResNet's BasicBlock: relu(x + (conv3x3, bn, relu, conv3x3, bn)(x)).
inline auto basic_block(std::size_t channels) {
    return sequential{
        residual{sequential{conv(channels, channels, 3, 1, 1), batch_norm2d{channels}, relu{},
                            conv(channels, channels, 3, 1, 1), batch_norm2d{channels}}},
        relu{}};
}

// A BasicBlock that changes the channels and halves the size: its shortcut is a strided 1 × 1
// convolution and batch norm (torchvision's downsample).
inline auto basic_block_down(std::size_t in, std::size_t out) {
    return sequential{residual{sequential{conv(in, out, 3, 2, 1), batch_norm2d{out}, relu{},
                                          conv(out, out, 3, 1, 1), batch_norm2d{out}},
                               sequential{conv(in, out, 1, 2, 0), batch_norm2d{out}}},
                      relu{}};
}

// The stem of every ResNet: conv 7 × 7 / 2, batch norm, relu, max pool 3 × 3 / 2.
inline auto resnet18(std::size_t classes = 1000) {
    return sequential{conv(3, 64, 7, 2, 3),
                      batch_norm2d{64},
                      relu{},
                      max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1},
                      sequential{basic_block(64), basic_block(64)},
                      sequential{basic_block_down(64, 128), basic_block(128)},
                      sequential{basic_block_down(128, 256), basic_block(256)},
                      sequential{basic_block_down(256, 512), basic_block(512)},
                      global_avg_pool2d{},
                      dense{512, classes}};
}

// ResNet's Bottleneck: relu(x + (conv1x1, bn, relu, conv3x3, bn, relu, conv1x1, bn)(x)),
// widening `width` channels four times.
inline auto bottleneck_block(std::size_t width) {
    const std::size_t channels = 4 * width;
    return sequential{
        residual{sequential{conv(channels, width, 1, 1, 0), batch_norm2d{width}, relu{},
                            conv(width, width, 3, 1, 1), batch_norm2d{width}, relu{},
                            conv(width, channels, 1, 1, 0), batch_norm2d{channels}}},
        relu{}};
}

// The first Bottleneck of a stage: from `in` channels, with a projection, strided.
inline auto bottleneck_block_down(std::size_t in, std::size_t width, std::size_t stride) {
    const std::size_t out = 4 * width;
    return sequential{residual{sequential{conv(in, width, 1, 1, 0), batch_norm2d{width}, relu{},
                                          conv(width, width, 3, stride, 1), batch_norm2d{width},
                                          relu{}, conv(width, out, 1, 1, 0), batch_norm2d{out}},
                               sequential{conv(in, out, 1, stride, 0), batch_norm2d{out}}},
                      relu{}};
}

inline auto resnet50(std::size_t classes = 1000) {
    return sequential{
        conv(3, 64, 7, 2, 3),
        batch_norm2d{64},
        relu{},
        max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1},
        sequential{bottleneck_block_down(64, 64, 1), bottleneck_block(64), bottleneck_block(64)},
        sequential{bottleneck_block_down(256, 128, 2), bottleneck_block(128), bottleneck_block(128),
                   bottleneck_block(128)},
        sequential{bottleneck_block_down(512, 256, 2), bottleneck_block(256), bottleneck_block(256),
                   bottleneck_block(256), bottleneck_block(256), bottleneck_block(256)},
        sequential{bottleneck_block_down(1024, 512, 2), bottleneck_block(512),
                   bottleneck_block(512)},
        global_avg_pool2d{},
        dense{2048, classes}};
}

// VGG's 3 × 3 convolution with bias, batch norm and relu.
inline auto vgg_conv(std::size_t in, std::size_t out) {
    return sequential{conv2d<float>({.in_channels = in, .out_channels = out, .padding = 1}),
                      batch_norm2d{out}, relu{}};
}

// vgg11_bn on 224 × 224 images: its adaptive average pool to 7 × 7 is then a 1 × 1 pool,
// as PyTorch exports it.
inline auto vgg11_bn(std::size_t classes = 1000) {
    return sequential{sequential{vgg_conv(3, 64), max_pool2d{}, vgg_conv(64, 128), max_pool2d{},
                                 vgg_conv(128, 256), vgg_conv(256, 256), max_pool2d{},
                                 vgg_conv(256, 512), vgg_conv(512, 512), max_pool2d{},
                                 vgg_conv(512, 512), vgg_conv(512, 512), max_pool2d{}},
                      avg_pool2d{.kernel_size = 1, .stride = 1}, flatten{},
                      sequential{dense{512 * 7 * 7, 4096}, relu{}, dropout{0.5}, dense{4096, 4096},
                                 relu{}, dropout{0.5}, dense{4096, classes}}};
}

} // namespace xtnn::test::torchvision
