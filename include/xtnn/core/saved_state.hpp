/// @file
/// saved_state: the named values a part of training (an optimizer, a metric, a callback) puts
/// into a backup and takes back when fit resumes from it.
#pragma once

#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/core/errors.hpp>

namespace xtnn {

/// The state of one part of training, as named byte strings: what fit's backups hold
/// (fit_options::backup) for the optimizer, each metric and each callback.
///
/// A part that remembers anything between batches or epochs (a best value, a counter, moments)
/// gives itself two members, and fit saves and restores it with the rest of training:
/// @code
/// struct my_callback {
///     std::size_t seen = 0;
///     template <class State> void on_epoch_end(State&) { ++seen; }
///     void save_state(xtnn::saved_state& s) const { s.put("seen", seen); }
///     void load_state(const xtnn::saved_state& s) { s.get("seen", seen); }
/// };
/// @endcode
/// Values are trivially copyable objects, vectors of them, strings or nested saved_states,
/// kept bit for bit (a resumed run continues with the same bits), in this machine's byte
/// order. get() throws io_error naming the key when a value is missing or of another size,
/// so a damaged or foreign backup is refused rather than read as something else.
/// @ingroup model
class saved_state {
  public:
    /// Stores `value` (a trivially copyable object) under `key`, replacing what was there.
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void put(std::string_view key, const T& value) {
        auto& bytes = slot(key);
        bytes.resize(sizeof(T));
        std::memcpy(bytes.data(), &value, sizeof(T));
    }
    /// Stores the elements of `values`.
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void put(std::string_view key, const std::vector<T>& values) {
        auto& bytes = slot(key);
        bytes.resize(values.size() * sizeof(T));
        if (!values.empty()) {
            std::memcpy(bytes.data(), values.data(), bytes.size());
        }
    }
    /// Stores the characters of `text`.
    void put(std::string_view key, const std::string& text) {
        auto& bytes = slot(key);
        bytes.resize(text.size());
        std::memcpy(bytes.data(), text.data(), text.size());
    }
    /// Stores every value of `part` under "key/…".
    void put(std::string_view key, const saved_state& part) {
        for (const auto& [name, bytes] : part.values_) {
            slot(std::string(key) + "/" + name) = bytes;
        }
    }

    /// Reads the object stored under `key` into `value`.
    /// @throws io_error if there is none or it has another size.
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void get(std::string_view key, T& value) const {
        const auto& bytes = find(key);
        if (bytes.size() != sizeof(T)) {
            throw io_error("saved state: '" + std::string(key) + "' holds " +
                           std::to_string(bytes.size()) + " bytes; expected " +
                           std::to_string(sizeof(T)));
        }
        std::memcpy(&value, bytes.data(), sizeof(T));
    }
    /// Reads the elements stored under `key` into `values`.
    /// @throws io_error if there are none or the bytes are not whole elements.
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void get(std::string_view key, std::vector<T>& values) const {
        const auto& bytes = find(key);
        if (bytes.size() % sizeof(T) != 0) {
            throw io_error("saved state: '" + std::string(key) + "' holds " +
                           std::to_string(bytes.size()) + " bytes, not a whole number of " +
                           std::to_string(sizeof(T)) + "-byte elements");
        }
        values.resize(bytes.size() / sizeof(T));
        if (!bytes.empty()) {
            std::memcpy(values.data(), bytes.data(), bytes.size());
        }
    }
    /// Reads the text stored under `key`.
    /// @throws io_error if there is none.
    void get(std::string_view key, std::string& text) const {
        const auto& bytes = find(key);
        text.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    /// The values stored under "key/…", as put(key, part) stored them (empty if none).
    saved_state part(std::string_view key) const {
        saved_state out;
        const std::string prefix = std::string(key) + "/";
        for (auto it = values_.lower_bound(prefix);
             it != values_.end() && it->first.starts_with(prefix); ++it) {
            out.values_.emplace(it->first.substr(prefix.size()), it->second);
        }
        return out;
    }

    /// Whether a value is stored under `key`.
    bool contains(std::string_view key) const { return values_.find(key) != values_.end(); }
    /// Whether nothing is stored.
    bool empty() const { return values_.empty(); }
    /// Every key and its bytes, in key order (what a backup file stores).
    const std::map<std::string, std::vector<std::byte>, std::less<>>& values() const {
        return values_;
    }
    /// Stores raw bytes under `key` (what a backup file reads back).
    void put_bytes(std::string key, std::vector<std::byte> bytes) {
        values_.insert_or_assign(std::move(key), std::move(bytes));
    }

  private:
    std::vector<std::byte>& slot(std::string_view key) {
        return values_.try_emplace(std::string(key)).first->second;
    }
    const std::vector<std::byte>& find(std::string_view key) const {
        const auto it = values_.find(key);
        if (it == values_.end()) {
            throw io_error("saved state: no value '" + std::string(key) + "'");
        }
        return it->second;
    }

    std::map<std::string, std::vector<std::byte>, std::less<>> values_;
};

namespace detail {

/// Whether `P` saves and restores its state in backups.
template <class P>
concept saves_state = requires(const P& cp, P& p, saved_state& out, const saved_state& in) {
    cp.save_state(out);
    p.load_state(in);
};

} // namespace detail
} // namespace xtnn
