// Convolutional networks: the Keras tutorial's convnet on MNIST images, the same with batch
// norm, and a residual block. docs/convolutional.md shows this file; the tests build and run it.
//   xtnn_example_convnet [MNIST directory, default data/mnist] [training samples, default 4000]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <xtnn/xtnn.hpp>

int main(int argc, char** argv) try {
    const std::string directory = argc > 1 ? argv[1] : "data/mnist";
    const std::size_t samples = argc > 2 ? std::stoul(argv[2]) : 4000;

    // [data]
    // Images for convolutions: (N, 1, 28, 28) floats in [0, 1], one channel.
    const auto mnist = xtnn::load_mnist(directory);
    const auto x_train = xtnn::to_images(mnist.train.images);
    const auto x_test = xtnn::to_images(mnist.test.images);
    // [data]
    const std::size_t n = std::min(samples, x_train.shape()[0]);
    xtnn::tensor<float, 4> x(xtnn::shape<4>{n, 1, 28, 28});
    std::copy_n(x_train.data(), x.size(), x.data());
    xtnn::tensor<std::uint8_t, 1> y(xtnn::shape<1>{n});
    std::copy_n(mnist.train.labels.data(), n, y.data());

    // [keras]
    // The Keras tutorial's convnet: conv 32 3x3, pool 2, conv 64 3x3, pool 2, dropout, dense.
    xtnn::sequential convnet{
        xtnn::conv2d{1, 32, 3},  xtnn::relu{},       xtnn::max_pool2d{2},
        xtnn::conv2d{32, 64, 3}, xtnn::relu{},       xtnn::max_pool2d{2},
        xtnn::flatten{},         xtnn::dropout{0.5}, xtnn::dense{64 * 5 * 5, 10}};
    std::cout << convnet.summary({1, 1, 28, 28});
    xtnn::trainer trainer{convnet, xtnn::softmax_cross_entropy{},
                          xtnn::adam({.learning_rate = 1e-3}), xtnn::accuracy{}};
    trainer.fit(x, y, {.epochs = 2, .batch_size = 64, .verbose = xtnn::verbosity::lines});
    const auto report = trainer.evaluate(x_test, mnist.test.labels);
    std::printf("convnet: test accuracy %.2f%%\n", 100 * report["accuracy"]);
    // [keras]

    // [batch_norm]
    // With batch norm: no bias before it (the norm removes it); its running statistics are
    // buffers, saved with the weights, and used in inference mode.
    xtnn::sequential normalized{
        xtnn::conv2d<float>({.in_channels = 1, .out_channels = 32, .bias = false}),
        xtnn::batch_norm2d{32},
        xtnn::relu{},
        xtnn::max_pool2d{2},
        xtnn::flatten{},
        xtnn::dense{32 * 13 * 13, 10}};
    std::cout << normalized.summary({1, 1, 28, 28}); // "Non-trainable params: 64"
    // [batch_norm]

    // [residual]
    // A residual block keeps the shape: y = x + f(x), here with "same" padding.
    xtnn::sequential resnet{
        xtnn::conv2d<float>({.in_channels = 1, .out_channels = 16, .padding = "same"}),
        xtnn::relu{},
        xtnn::residual{xtnn::sequential{
            xtnn::conv2d<float>({.in_channels = 16, .out_channels = 16, .padding = "same"}),
            xtnn::batch_norm2d{16}, xtnn::relu{},
            xtnn::conv2d<float>({.in_channels = 16, .out_channels = 16, .padding = "same"})}},
        xtnn::relu{},
        xtnn::global_avg_pool2d{},
        xtnn::dense{16, 10}};
    std::cout << resnet.summary({1, 1, 28, 28});
    // [residual]
    return report["accuracy"] > 0.9 ? 0 : 1;
} catch (const std::exception& error) {
    std::fprintf(stderr, "convnet: %s\n", error.what());
    return 1;
}
