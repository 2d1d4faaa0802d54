/// @file
/// Files, safely: checking a file before reading it (with the real reason when it cannot be
/// read), and replacing one by writing under a temporary name next to it, then renaming:
/// the temporary is flushed to disk (fsync) before the rename and the directory after it, so a
/// crash or a power loss leaves either the old file or the new one; a crashed save's
/// temporaries are removed by the next save; a read-only file is not replaced.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <signal.h>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

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

/// Throws io_error unless an existing file at `target` may be replaced: a file without write
/// permission is refused, as numpy and PyTorch refuse it (from its permission bits, so root is
/// refused too: the rename that replaces a file would otherwise ignore them).
inline void require_writable(const std::filesystem::path& target,
                             const std::filesystem::file_status& status, const std::string& where) {
    if (!std::filesystem::is_regular_file(status)) {
        return;
    }
    using std::filesystem::perms;
    const bool owner_writes = (status.permissions() & perms::owner_write) != perms::none;
    if (!owner_writes || ::access(target.c_str(), W_OK) != 0) {
        throw io_error(where + ": the file is read-only; it is not replaced (make it writable, "
                               "or write to another name)");
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
            require_writable(target, status, where);
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

/// The directory that holds `path` ("." for a bare name).
inline std::filesystem::path directory_of(const std::filesystem::path& path) {
    return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

/// The start of the names of `path`'s temporaries: ".name.tmp".
inline std::string temporary_prefix(const std::filesystem::path& path) {
    // Appended piece by piece: GCC 12 reports a false -Wrestrict in `"." + std::string`
    // (GCC bug 105329), which a user's -Wall -Werror would turn into an error.
    std::string name(1, '.');
    name.append(path.filename().string());
    name.append(".tmp");
    return name;
}

/// A unique, hidden name in the directory of `path` (".name.tmp<process id>-<random>"): a
/// rename from it to `path` stays within one file system, so it is atomic; the process id
/// tells a later save whether its writer is still running (see remove_stale_temporaries).
inline std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
    const std::filesystem::path directory = directory_of(path);
    random_engine rng(
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::string name = temporary_prefix(path);
    name.append(std::to_string(::getpid()));
    name.append(1, '-');
    name.append(std::to_string(rng() % 1000000007));
    return directory / name;
}

/// Removes the temporaries of `target` left by saves that crashed: those whose process is no
/// longer running on this machine (a save in progress in another process keeps its own).
inline void remove_stale_temporaries(const std::filesystem::path& target) {
    const std::filesystem::path directory = directory_of(target);
    const std::string prefix = temporary_prefix(target);
    std::error_code error;
    std::filesystem::directory_iterator entries(directory, error);
    for (; !error && entries != std::filesystem::directory_iterator(); entries.increment(error)) {
        const std::string name = entries->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) {
            continue;
        }
        const std::string_view rest = std::string_view(name).substr(prefix.size());
        const std::size_t dash = rest.find('-');
        if (dash == 0 || dash == std::string_view::npos || dash > 9 ||
            rest.substr(0, dash).find_first_not_of("0123456789") != std::string_view::npos) {
            continue;
        }
        const auto pid = static_cast<pid_t>(std::stol(std::string(rest.substr(0, dash))));
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
            std::error_code ignored;
            std::filesystem::remove(entries->path(), ignored);
        }
    }
}

/// Flushes a file or directory to disk (fsync); false on an I/O error.
inline bool sync_to_disk(const std::filesystem::path& path, bool directory) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0) {
        return false;
    }
    const bool ok = ::fsync(fd) == 0 || (directory && errno == EINVAL); // EINVAL: not supported
    ::close(fd);
    return ok;
}

/// Flushes the finished `temporary` to disk and renames it onto `target` (a write_target()),
/// giving it the permissions of the file it replaces (a new file keeps those the umask gave
/// it), then flushes the directory and removes stale temporaries of `target`; or removes
/// `temporary` and throws io_error `where: cannot replace the file: …`.
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
    if (!error && !sync_to_disk(temporary, false)) {
        error = std::error_code(errno, std::generic_category());
    }
    if (!error) {
        std::filesystem::rename(temporary, target, error);
    }
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw io_error(where + ": cannot replace the file: " + error.message());
    }
    if (!sync_to_disk(directory_of(target), true)) {
        throw io_error(where +
                       ": the file was replaced, but its directory could not be flushed "
                       "to disk: " +
                       std::generic_category().message(errno));
    }
    remove_stale_temporaries(target);
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
