/// @file
/// Replacing files safely: write under a temporary name next to the target, then rename.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/random.hpp>

namespace xtnn::detail {

/// A unique, hidden name in the directory of `path` (".name.tmpNNN"): a rename from it to
/// `path` stays within one file system, so it is atomic.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
    const std::filesystem::path directory =
        path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    random_engine rng(
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    return directory /
           ("." + path.filename().string() + ".tmp" + std::to_string(rng() % 1000000007));
}

/// Renames the finished `temporary` onto `path`, or removes it and throws io_error
/// `where: cannot replace the file: …`.
inline void replace_file(const std::filesystem::path& temporary, const std::filesystem::path& path,
                         const std::string& where) {
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw io_error(where + ": cannot replace the file: " + error.message());
    }
}

} // namespace xtnn::detail
