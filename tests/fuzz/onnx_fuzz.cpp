// Fuzz target: load_onnx (protobuf parsing, the graph walk, attributes, constants) into an
// MLP, a convnet with batch norm and a residual model, and read_onnx_architecture. Every
// failure must be an xtnn::io_error, and a failed load must leave the model unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <xtnn/onnx.hpp>

#include "fuzz_model.hpp"
#include "input_file.hpp"

namespace {

template <class Model>
std::vector<float> values_of(Model& model) {
    std::vector<float> all;
    for (const auto& p : model.parameters()) {
        all.insert(all.end(), p.value.begin(), p.value.end());
    }
    for (const auto& b : model.buffers()) {
        if (const auto* v = std::get_if<std::span<float>>(&b.value)) {
            all.insert(all.end(), v->begin(), v->end());
        }
    }
    return all;
}

template <class Model>
void load_into(Model& model, const std::filesystem::path& path) {
    for (const bool check : {true, false}) {
        model.initialize(1);
        const auto before = values_of(model);
        try {
            xtnn::load_onnx(model, path, {.check_architecture = check});
        } catch (const xtnn::io_error&) {
            if (values_of(model) != before) {
                std::abort(); // a failed load changed the model
            }
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static xtnn::fuzz::input_file_remover remover{".onnx"};
    static auto mlp = xtnn::fuzz::make_model();
    static auto convnet = xtnn::fuzz::make_convnet();
    static auto residual = xtnn::fuzz::make_residual();
    const auto& path = xtnn::fuzz::write_input(data, size, ".onnx");
    try {
        (void)xtnn::read_onnx_architecture(path);
    } catch (const xtnn::io_error&) {
    }
    load_into(mlp, path);
    load_into(convnet, path);
    load_into(residual, path);
    return 0;
}
