// Fuzz target: read_idx_header, then read_idx with the type and rank the header declares, on
// any bytes. Every failure must be an xtnn::io_error; anything else (a crash, a sanitizer
// report, another exception) is a finding.
#include <cstddef>
#include <cstdint>

#include <xtnn/io/idx.hpp>

#include "input_file.hpp"

namespace {

template <class T>
void read_as(const std::filesystem::path& path, std::size_t rank) {
    switch (rank) {
    case 1:
        (void)xtnn::read_idx<T, 1>(path);
        break;
    case 2:
        (void)xtnn::read_idx<T, 2>(path);
        break;
    case 3:
        (void)xtnn::read_idx<T, 3>(path);
        break;
    default:
        (void)xtnn::read_idx<T, 4>(path); // a rank mismatch for 0 or more than 4
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static xtnn::fuzz::input_file_remover remover{".idx"};
    const auto& path = xtnn::fuzz::write_input(data, size, ".idx");
    try {
        const auto header = xtnn::read_idx_header(path);
        const std::size_t rank = header.shape.size();
        switch (header.type) {
        case xtnn::idx_type::u8:
            read_as<std::uint8_t>(path, rank);
            break;
        case xtnn::idx_type::i8:
            read_as<std::int8_t>(path, rank);
            break;
        case xtnn::idx_type::i16:
            read_as<std::int16_t>(path, rank);
            break;
        case xtnn::idx_type::i32:
            read_as<std::int32_t>(path, rank);
            break;
        case xtnn::idx_type::f32:
            read_as<float>(path, rank);
            break;
        case xtnn::idx_type::f64:
            read_as<double>(path, rank);
            break;
        }
    } catch (const xtnn::io_error&) {
    }
    return 0;
}
