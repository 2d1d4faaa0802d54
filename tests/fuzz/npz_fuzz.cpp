// Fuzz target: load_weights (the .npz reader: zip, .npy headers, data) into a small model,
// strict and not, and read_npz_headers. Every failure must be an xtnn::io_error, and a failed
// load must leave the model unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <xtnn/io/npz.hpp>
#include <xtnn/layers/dense.hpp>
#include <xtnn/model/sequential.hpp>

#include "fuzz_model.hpp"
#include "input_file.hpp"

namespace {

std::vector<float> values_of(xtnn::fuzz::model_type& model) {
    std::vector<float> all;
    for (const auto& p : model.parameters()) {
        all.insert(all.end(), p.value.begin(), p.value.end());
    }
    return all;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static xtnn::fuzz::input_file_remover remover{".npz"};
    static auto model = xtnn::fuzz::make_model();
    const auto& path = xtnn::fuzz::write_input(data, size, ".npz");
    try {
        (void)xtnn::read_npz_headers(path);
    } catch (const xtnn::io_error&) {
    }
    for (const bool strict : {true, false}) {
        model.initialize(1);
        const auto before = values_of(model);
        try {
            xtnn::load_weights(model, path, {.strict = strict});
        } catch (const xtnn::io_error&) {
            if (values_of(model) != before) {
                std::abort(); // a failed load changed the model
            }
        }
    }
    return 0;
}
