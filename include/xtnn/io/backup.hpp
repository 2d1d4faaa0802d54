/// @file
/// fit's backups: the model and the state of its training in one .npz file, so that a run
/// killed at any moment resumes to the bits an uninterrupted run gives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/io/npy.hpp>
#include <xtnn/io/npz.hpp>

namespace xtnn {

/// Where and how often fit backs up its training (fit_options::backup), as Keras'
/// `BackupAndRestore`: when the file exists, fit resumes from it; while training it replaces
/// it atomically at the end of every epoch (and every `every_batches` batches); when training
/// ends it deletes it, unless `keep`.
///
/// A backup holds the model's parameters and buffers (as save_weights, with its architecture),
/// the optimizer's state (moments, momentum, step count, learning rate), the position (epoch
/// and batch), the random engines of every layer that draws (dropout, augmentation; one set per
/// process under fit_options::distributed), the state of each metric and callback that keeps
/// one (best values, patience counters, schedules; see saved_state) and the history. Resumed
/// with the same data and options, fit ends with the weights, history and files an
/// uninterrupted run gives, bit for bit: kill the program at any moment (even during a save)
/// and run it again. A backup made with other data or options (batch size, seed, shuffle,
/// validation, weights), another model or another number of processes is refused with a
/// config_error naming what differs; `epochs` may differ, to train on for longer.
/// @code
/// trainer.fit(x, y, {.epochs = 20, .backup = {.path = "run/backup.npz"}});
/// @endcode
/// @ingroup model
struct backup_options {
    /// The backup file (.npz); empty: no backups. Its directory must exist.
    std::filesystem::path path{};
    /// Also back up every this many batches within an epoch (0: at the ends of epochs only).
    /// Every metric must then save its state (the built-in ones do).
    std::size_t every_batches = 0;
    /// Keep the file when training ends (by default it is deleted, so that the same command
    /// run again trains afresh).
    bool keep = false;
    /// Resume from the file when it exists; false: train afresh and replace it.
    bool resume = true;
};

namespace detail {

/// The arrays of a backup that hold training state: "backup/<key>", one byte array per key.
inline constexpr std::string_view backup_prefix = "backup/";
/// What fit names in the errors of its backups.
inline constexpr std::string_view backup_function = "fit (backup)";

/// Writes the model's parameters and buffers, its architecture (if any) and `state` to `path`,
/// replacing the file atomically (as save_weights).
template <std::floating_point T>
void write_backup(const std::filesystem::path& path, std::span<const parameter_view<T>> params,
                  std::span<const buffer_view<T>> buffers, const model_architecture* architecture,
                  const saved_state& state) {
    auto entries = npz_entries(params, buffers);
    for (const auto& [key, bytes] : state.values()) {
        // write_npz only reads an entry's bytes
        entries.push_back(
            {std::string(backup_prefix) + key,
             npy_descr<std::uint8_t>(),
             {bytes.size()},
             std::span<std::byte>(const_cast<std::byte*>(bytes.data()), bytes.size())});
    }
    write_npz(entries, path, architecture, backup_function);
}

/// The training state a backup holds (its "backup/…" arrays), without touching a model.
/// @throws io_error naming the file if it is not an .npz, an array of state is not bytes, or
/// the arrays claim more bytes than the file holds.
inline saved_state read_backup_state(const std::filesystem::path& path) {
    const std::string where = npz_where(backup_function, path);
    const auto arrays = read_npz_headers(path);
    std::error_code error;
    const std::uintmax_t file_bytes = std::filesystem::file_size(path, error);
    std::vector<std::string> keys;
    std::vector<std::vector<std::byte>> data;
    std::uintmax_t claimed = 0;
    for (const auto& a : arrays) {
        if (!a.name.starts_with(backup_prefix)) {
            continue;
        }
        if (a.header.descr != npy_descr<std::uint8_t>() || a.header.shape.size() != 1) {
            throw io_error(where + ": '" + a.name.substr(0, 80) + "' is not a byte array (" +
                           a.header.descr.substr(0, 16) + " " + format_shape(a.header.shape) + ")");
        }
        claimed += a.header.shape[0];
        if (error || claimed > file_bytes) {
            throw io_error(where + ": its arrays claim more bytes than the file's " +
                           std::to_string(file_bytes));
        }
        keys.push_back(a.name.substr(backup_prefix.size()));
        data.emplace_back(a.header.shape[0]);
    }
    std::vector<npz_entry> entries;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        entries.push_back({std::string(backup_prefix) + keys[k],
                           npy_descr<std::uint8_t>(),
                           {data[k].size()},
                           std::span<std::byte>(data[k])});
    }
    read_npz(entries, path, {.strict = false}, backup_function);
    saved_state state;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        state.put_bytes(std::move(keys[k]), std::move(data[k]));
    }
    return state;
}

/// Reads a backup's parameters and buffers into the model's, strictly (every name, type and
/// shape), after read_backup_state() gave its `state` (and fit compared its architecture).
/// @throws io_error naming the file and what differs; the model is unchanged then.
template <std::floating_point T>
void read_backup_model(const std::filesystem::path& path, std::span<const parameter_view<T>> params,
                       std::span<const buffer_view<T>> buffers, const saved_state& state) {
    auto entries = npz_entries(params, buffers);
    // The state's arrays are read again, into scratch, so that the read is strict.
    std::vector<std::vector<std::byte>> scratch;
    scratch.reserve(state.values().size());
    for (const auto& [key, bytes] : state.values()) {
        scratch.emplace_back(bytes.size());
        entries.push_back({std::string(backup_prefix) + key,
                           npy_descr<std::uint8_t>(),
                           {bytes.size()},
                           std::span<std::byte>(scratch.back())});
    }
    read_npz(entries, path, {}, backup_function);
}

} // namespace detail
} // namespace xtnn
