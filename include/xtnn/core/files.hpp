/// @file
/// Files, safely: checking a file before reading it (with the real reason when it cannot be
/// read), and replacing one by writing under a temporary name next to it, then renaming.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <system_error>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/random.hpp>

namespace xtnn::detail {

/// Throws io_error `where: …` unless `path` names a regular file (through symlinks): "no such
/// file", "is a directory, not a file", or the system's reason when the path cannot be
/// examined (a folder that cannot be searched, a symlink loop).
inline void require_regular_file(const std::filesystem::path& path, const std::string& where) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (error && error != std::errc::no_such_file_or_directory) {
        throw io_error(where + ": cannot examine the file: " + error.message());
    }
    if (!std::filesystem::exists(status)) {
        throw io_error(where + ": no such file");
    }
    if (std::filesystem::is_directory(status)) {
        throw io_error(where + ": is a directory, not a file");
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw io_error(where + ": not a regular file");
    }
}

/// The file a write to `path` must replace: `path` itself, or the file its symlinks lead to
/// (which need not exist yet), so that saving through a link updates the link's target and
/// keeps the link.
inline std::filesystem::path write_target(const std::filesystem::path& path,
                                          const std::string& where) {
    std::filesystem::path target = path;
    for (int links = 0;; ++links) {
        std::error_code error;
        const auto status = std::filesystem::symlink_status(target, error);
        if (error && error != std::errc::no_such_file_or_directory) {
            throw io_error(where + ": cannot examine the file: " + error.message());
        }
        if (!std::filesystem::is_symlink(status)) {
            return target;
        }
        if (links == 40) {
            throw io_error(where + ": too many levels of symbolic links");
        }
        const auto next = std::filesystem::read_symlink(target, error);
        if (error) {
            throw io_error(where + ": cannot read the symbolic link: " + error.message());
        }
        target = next.is_absolute() ? next : target.parent_path() / next;
    }
}

/// A unique, hidden name in the directory of `path` (".name.tmpNNN"): a rename from it to
/// `path` stays within one file system, so it is atomic.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
    const std::filesystem::path directory =
        path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    random_engine rng(
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    // Appended piece by piece: GCC 12 reports a false -Wrestrict in `"." + std::string`
    // (GCC bug 105329), which a user's -Wall -Werror would turn into an error.
    std::string name(1, '.');
    name.append(path.filename().string());
    name.append(".tmp");
    name.append(std::to_string(rng() % 1000000007));
    return directory / name;
}

/// Renames the finished `temporary` onto `target` (a write_target()), giving it the
/// permissions of the file it replaces (a new file keeps those the umask gave it), or removes
/// it and throws io_error `where: cannot replace the file: …`.
inline void replace_file(const std::filesystem::path& temporary,
                         const std::filesystem::path& target, const std::string& where) {
    std::error_code error;
    const auto old = std::filesystem::status(target, error);
    if (!error && std::filesystem::exists(old)) {
        std::filesystem::permissions(temporary, old.permissions(),
                                     std::filesystem::perm_options::replace, error);
    } else {
        error.clear();
    }
    if (!error) {
        std::filesystem::rename(temporary, target, error);
    }
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw io_error(where + ": cannot replace the file: " + error.message());
    }
}

/// Writes a text file atomically: `write(std::ostream&)` fills a temporary sibling of `path`'s
/// target, which then replaces it (see write_target, replace_file), so a failed write leaves the
/// previous file whole. `where` names the caller in io_error messages.
template <class Write>
void write_text_file(const std::filesystem::path& path, const std::string& where, Write write) {
    const std::filesystem::path target = write_target(path, where);
    const std::filesystem::path temporary = temporary_sibling(target);
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw io_error(where + ": cannot create '" + temporary.string() +
                           "': " + std::generic_category().message(errno));
        }
        try {
            write(static_cast<std::ostream&>(out));
        } catch (...) {
            out.close();
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw;
        }
        out.flush();
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw io_error(where + ": cannot write the file (disk full?)");
        }
    }
    replace_file(temporary, target, where);
}

} // namespace xtnn::detail
