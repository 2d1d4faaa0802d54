/// @file
/// history: what fit() measured, epoch by epoch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtnn/core/files.hpp>
#include <xtnn/core/saved_state.hpp>

namespace xtnn {

/// One named value: "loss", "accuracy", "val_loss"…
/// @ingroup model
struct log_entry {
    std::string name; ///< The key, e.g. "val_accuracy".
    double value = 0; ///< Its value.
};

/// The per-epoch values fit() measured: the training loss and metrics (means over the epoch)
/// and, with validation data, the same prefixed "val_".
///
/// @code
/// auto history = trainer.fit(x, y, {.epochs = 5, .validation_split = 0.1});
/// for (double l : history["val_loss"]) std::cout << l << "\n";
/// history.write_csv("history.csv");   // or any std::ostream
/// @endcode
/// @ingroup model
class history {
  public:
    /// Appends one epoch's values (the keys must be the same every epoch).
    void append(std::size_t epoch, const std::vector<log_entry>& logs) {
        if (keys_.empty()) {
            for (const auto& entry : logs) {
                keys_.push_back(entry.name);
            }
            values_.resize(keys_.size());
        }
        if (logs.size() != keys_.size()) {
            throw std::logic_error("history::append: the keys changed between epochs");
        }
        epochs_.push_back(epoch);
        for (std::size_t k = 0; k < logs.size(); ++k) {
            values_[k].push_back(logs[k].value);
        }
    }
    /// The epochs recorded (0-based; fit's initial_epoch shifts them).
    const std::vector<std::size_t>& epochs() const { return epochs_; }
    /// The keys, in order: "loss", the metrics, then the "val_" ones.
    const std::vector<std::string>& keys() const { return keys_; }
    /// Whether `key` was recorded.
    bool contains(const std::string& key) const {
        return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
    }
    /// The values of `key`, one per epoch.
    /// @throws std::out_of_range naming the key and the keys there are.
    const std::vector<double>& operator[](const std::string& key) const {
        const auto it = std::find(keys_.begin(), keys_.end(), key);
        if (it == keys_.end()) {
            std::string known;
            for (const auto& k : keys_) {
                known += (known.empty() ? "" : ", ") + k;
            }
            throw std::out_of_range("history: no key '" + key + "'; keys: " + known);
        }
        return values_[static_cast<std::size_t>(it - keys_.begin())];
    }
    /// The number of epochs recorded.
    std::size_t size() const { return epochs_.size(); }

    /// Writes the history as CSV to `path`, atomically: a failed write leaves the previous file
    /// whole, and a file replaced keeps its permissions (as save_weights).
    /// @throws io_error naming the file.
    void write_csv(const std::filesystem::path& path) const {
        detail::write_text_file(path, "history::write_csv: '" + path.string() + "'",
                                [&](std::ostream& out) { write_csv(out); });
    }

    /// Writes "epoch,loss,accuracy,…" then one line per epoch (epochs counted from 1).
    void write_csv(std::ostream& out) const {
        out << "epoch";
        for (const auto& k : keys_) {
            out << "," << k;
        }
        out << "\n";
        for (std::size_t e = 0; e < epochs_.size(); ++e) {
            out << epochs_[e] + 1;
            for (const auto& column : values_) {
                char number[32];
                std::snprintf(number, sizeof number, "%.9g", column[e]);
                out << "," << number;
            }
            out << "\n";
        }
    }

    /// Puts the epochs, keys and values into `s`, bit for bit (fit's backups keep them).
    void save_state(saved_state& s) const {
        s.put("epochs", epochs_);
        s.put("keys", keys_.size());
        for (std::size_t k = 0; k < keys_.size(); ++k) {
            s.put("key/" + std::to_string(k), keys_[k]);
            s.put("values/" + std::to_string(k), values_[k]);
        }
    }
    /// Continues from a save_state().
    /// @throws io_error, leaving the history as it was, if a value is missing or a key has
    /// not one value per epoch.
    void load_state(const saved_state& s) {
        std::vector<std::size_t> epochs;
        std::size_t count = 0;
        s.get("epochs", epochs);
        s.get("keys", count);
        if (count > 4096) {
            throw io_error("history::load_state: " + std::to_string(count) +
                           " keys; at most 4096 expected");
        }
        std::vector<std::string> keys(count);
        std::vector<std::vector<double>> values(count);
        for (std::size_t k = 0; k < count; ++k) {
            s.get("key/" + std::to_string(k), keys[k]);
            s.get("values/" + std::to_string(k), values[k]);
            if (values[k].size() != epochs.size()) {
                throw io_error("history::load_state: '" + keys[k].substr(0, 60) + "' has " +
                               std::to_string(values[k].size()) + " values for " +
                               std::to_string(epochs.size()) + " epochs");
            }
        }
        epochs_ = std::move(epochs);
        keys_ = std::move(keys);
        values_ = std::move(values);
    }

  private:
    std::vector<std::size_t> epochs_;
    std::vector<std::string> keys_;
    std::vector<std::vector<double>> values_;
};

} // namespace xtnn
