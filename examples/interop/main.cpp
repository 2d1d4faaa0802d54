// Models that travel: a weight file that records its architecture, and ONNX out and in.
// docs/interop.md shows this file; the tests build and run it (it needs the ONNX component,
// xtnn::onnx).
//   xtnn_example_interop [directory for the files, default .]
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

int main(int argc, char** argv) try {
    const std::filesystem::path directory = argc > 1 ? argv[1] : ".";

    // [record]
    // A convnet with batch norm; save_weights records its architecture in the file.
    auto make = [] {
        return xtnn::sequential{xtnn::conv2d{1, 8, 3}, xtnn::batch_norm2d{8},
                                xtnn::relu{},          xtnn::max_pool2d{2},
                                xtnn::flatten{},       xtnn::dense{8 * 13 * 13, 10}};
    };
    auto model = make();
    model.initialize(7);
    xtnn::save_weights(model, directory / "convnet.npz");

    // Read the record without a model: what a program needs to build the right model.
    if (const auto record = xtnn::read_architecture(directory / "convnet.npz")) {
        std::cout << record->model.to_string() << "\n"; // sequential(conv2d(in_channels=1, …), …)
        std::cout << "first layer: " << record->model.layers[0].kind << "\n";
    }

    // Another architecture with the same shapes is refused, naming the first difference.
    xtnn::sequential other{xtnn::conv2d{1, 8, 3}, xtnn::batch_norm2d{8},
                           xtnn::tanh{},          xtnn::max_pool2d{2},
                           xtnn::flatten{},       xtnn::dense{8 * 13 * 13, 10}};
    try {
        xtnn::load_weights(other, directory / "convnet.npz");
    } catch (const xtnn::io_error& e) {
        std::cout << e.what() << "\n"; // … layer 2 differs: the file has relu, the model has tanh …
    }
    // [record]

    // [onnx]
    // ONNX out: any ONNX runtime, OpenCV's dnn module or Netron reads it; the batch is free.
    xtnn::save_onnx(model, directory / "convnet.onnx", {1, 1, 28, 28});

    // ONNX in: into a model of the same layers (from xtnn, or from torch.onnx.export).
    auto loaded = make();
    xtnn::load_onnx(loaded, directory / "convnet.onnx");
    // [onnx]

    xtnn::tensor<float, 4> x(xtnn::shape<4>{2, 1, 28, 28});
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = static_cast<float>(i % 29) / 29.0f;
    }
    const bool same = xtnn::predict(model, x) == xtnn::predict(loaded, x);
    std::printf("onnx round trip: %s\n", same ? "same outputs" : "DIFFERENT outputs");
    return same ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "interop: %s\n", e.what());
    return 1;
}
