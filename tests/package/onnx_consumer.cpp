// A consumer of xtnn's ONNX component: writes a model as ONNX, reads it into another, prints a
// line the test expects.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    model.initialize(1);
    const auto file = std::filesystem::temp_directory_path() / "xtnn_onnx_consumer.onnx";
    xtnn::save_onnx(model, file, {1, 4});
    xtnn::sequential loaded{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    xtnn::load_onnx(loaded, file);
    std::filesystem::remove(file);
    xtnn::tensor<float, 2> x = {{0.1f, 0.2f, 0.3f, 0.4f}};
    if (!(xtnn::predict(model, x) == xtnn::predict(loaded, x))) {
        std::cerr << "the ONNX round trip changed the model\n";
        return 1;
    }
    std::cout << "xtnn consumer ok (ONNX component)\n";
    return 0;
}
