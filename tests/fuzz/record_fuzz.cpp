// Fuzz target: the architecture record that weight files and ONNX files carry (JSON), read as
// load_weights and read_onnx_architecture read it. Every failure must be an xtnn::io_error;
// anything else (a crash, a sanitizer report, another exception, a time-out) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xtnn/io/architecture.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)xtnn::detail::architecture_from_json(text, "fuzz");
    } catch (const xtnn::io_error&) {
    }
    return 0;
}
