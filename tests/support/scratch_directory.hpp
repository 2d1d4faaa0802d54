// A fresh directory for a test's files, removed when the test ends.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace xtnn::test {

/// A new directory under the system's temporary directory, named after the process and a
/// counter; removed with its content on destruction.
struct scratch_directory {
    std::filesystem::path path;

    scratch_directory() {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("xtnn_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(path);
    }
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;
    ~scratch_directory() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

} // namespace xtnn::test
