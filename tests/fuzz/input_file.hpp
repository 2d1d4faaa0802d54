// A fuzz input as a file, for the readers that take a path (read_idx, load_weights): one file
// per process, rewritten for every input, in TMPDIR (or /tmp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace xtnn::fuzz {

inline const std::filesystem::path& input_path(const char* extension) {
    static const std::filesystem::path path = [&] {
        const char* dir = std::getenv("TMPDIR");
        return std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "/tmp") /
               ("xtnn-fuzz-" + std::to_string(::getpid()) + extension);
    }();
    return path;
}

/// Writes the input to this process's file and returns its path.
inline const std::filesystem::path& write_input(const std::uint8_t* data, std::size_t size,
                                                const char* extension) {
    const auto& path = input_path(extension);
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr || std::fwrite(data, 1, size, file) != size || std::fclose(file) != 0) {
        std::perror(path.c_str());
        std::abort();
    }
    return path;
}

/// Removes the file at exit.
struct input_file_remover {
    const char* extension;
    ~input_file_remover() {
        std::error_code ignored;
        std::filesystem::remove(input_path(extension), ignored);
    }
};

} // namespace xtnn::fuzz
