// A consumer of xtnn: composes a model, runs one training step, saves and loads its weights,
// prints a line the test expects.
#include <cmath>
#include <filesystem>
#include <iostream>

#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    xtnn::tensor<float, 2> x = {{0.1f, 0.2f, 0.3f, 0.4f}, {0.5f, 0.6f, 0.7f, 0.8f}};
    xtnn::tensor<int, 1> labels = {0, 2};
    xtnn::tensor<float, 2> dy;
    auto params = model.parameters();
    xtnn::sgd optimizer({.learning_rate = 0.1});
    const float before = xtnn::softmax_cross_entropy{}.value_and_gradient(
        model.forward(x, xtnn::mode::training), labels, dy);
    model.backward(x, dy);
    optimizer.step(params);
    const float after = xtnn::softmax_cross_entropy{}.value(model.forward(x), labels);
    if (!(after < before) || !std::isfinite(after)) {
        std::cerr << "loss did not decrease: " << before << " -> " << after << "\n";
        return 1;
    }
    // A weight file with its architecture record, written and read back.
    const auto file = std::filesystem::temp_directory_path() / "xtnn_consumer.npz";
    xtnn::save_weights(model, file);
    xtnn::sequential loaded{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    xtnn::load_weights(loaded, file);
    std::filesystem::remove(file);
    if (!(loaded.forward(x) == model.forward(x))) {
        std::cerr << "the weight file changed the model\n";
        return 1;
    }
    std::cout << "xtnn consumer ok (xtnn " << xtnn::version_string << ", loss " << before << " -> "
              << after << ")\n";
    return 0;
}
