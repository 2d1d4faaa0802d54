/// @file
/// early_stopping: stop when a watched value stops improving, optionally restoring the best.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <xtnn/core/options.hpp>
#include <xtnn/model/callbacks/monitor.hpp>

namespace xtnn {

/// Options of early_stopping.
/// @ingroup model
struct early_stopping_options {
    std::string monitor = "val_loss";            ///< The logged value to watch.
    monitor_mode mode = monitor_mode::automatic; ///< Whether it should fall or rise.
    double min_delta = 0.0;                      ///< Smaller changes do not count (≥ 0).
    std::size_t patience = 0;                    ///< Epochs without improvement to allow.
    bool restore_best_weights = false;           ///< End with the best epoch's weights.
};

/// Stops fit() when the watched value has not improved for `patience` epochs (at least one).
///
/// With `restore_best_weights`, the weights and buffers of the best epoch are copied after each
/// improvement (one copy, allocated once) and put back when training ends,
/// whether it stopped early or ran out of epochs.
/// @throws config_error (from fit) if the watched value is not logged, e.g. "val_loss"
/// without validation data.
/// @code
/// xtnn::early_stopping stop({.monitor = "val_loss", .patience = 3,
///                            .restore_best_weights = true});
/// trainer.fit(x, y, {.epochs = 100, .validation_split = 0.1}, stop);
/// // stop.best_epoch(), stop.stopped_epoch()
/// @endcode
/// @ingroup model
class early_stopping {
  public:
    /// `early_stopping({})`: the default options, as `early_stopping()`.
    explicit early_stopping(detail::empty_braces) : early_stopping() {}
    /// A callback with the given options.
    explicit early_stopping(early_stopping_options options = {})
        : options_(options),
          monitor_(options.monitor, options.mode, options.min_delta, "early_stopping") {}

    /// The best value seen.
    double best() const { return monitor_.best(); }
    /// The epoch of the best value (0-based).
    std::size_t best_epoch() const { return best_epoch_; }
    /// The epoch training stopped after, if it stopped early.
    std::optional<std::size_t> stopped_epoch() const { return stopped_epoch_; }

    /// Resets the watch.
    template <class State>
    void on_train_begin(State&) {
        monitor_.reset();
        wait_ = 0;
        best_epoch_ = 0;
        stopped_epoch_.reset();
        best_state_.clear();
    }

    /// Records an improvement, or counts an epoch without one and stops after `patience`.
    template <class State>
    void on_epoch_end(State& s) {
        if (monitor_.improves(monitor_.read(s, "early_stopping"))) {
            wait_ = 0;
            best_epoch_ = s.epoch;
            if (options_.restore_best_weights) {
                best_state_.clear();
                for_each_tensor(s, [this](std::span<std::byte> bytes) {
                    best_state_.insert(best_state_.end(), bytes.begin(), bytes.end());
                });
            }
            return;
        }
        ++wait_;
        if (wait_ >= std::max<std::size_t>(options_.patience, 1)) {
            s.stop_training = true;
            stopped_epoch_ = s.epoch;
        }
    }

    /// Restores the best weights if asked to.
    template <class State>
    void on_train_end(State& s) {
        if (!options_.restore_best_weights || best_state_.empty()) {
            return;
        }
        auto it = best_state_.begin();
        for_each_tensor(s, [&it](std::span<std::byte> bytes) {
            std::copy_n(it, bytes.size(), bytes.begin());
            it += static_cast<std::ptrdiff_t>(bytes.size());
        });
    }

    /// Puts the watch (best value and epoch, epochs without improvement) and, with
    /// restore_best_weights, the best epoch's weights into `s`: fit's backups keep them.
    void save_state(saved_state& s) const {
        saved_state watch;
        monitor_.save_state(watch);
        s.put("monitor", watch);
        s.put("wait", wait_);
        s.put("best_epoch", best_epoch_);
        s.put("stopped", stopped_epoch_.has_value());
        s.put("stopped_epoch", stopped_epoch_.value_or(0));
        s.put("best_state", best_state_);
    }
    /// Continues from a save_state().
    /// @throws io_error if a value is missing.
    void load_state(const saved_state& s) {
        std::size_t wait = 0;
        std::size_t best_epoch = 0;
        bool stopped = false;
        std::size_t stopped_epoch = 0;
        std::vector<std::byte> best_state;
        s.get("wait", wait);
        s.get("best_epoch", best_epoch);
        s.get("stopped", stopped);
        s.get("stopped_epoch", stopped_epoch);
        s.get("best_state", best_state);
        monitor_.load_state(s.part("monitor"));
        wait_ = wait;
        best_epoch_ = best_epoch;
        stopped_epoch_ = stopped ? std::optional<std::size_t>(stopped_epoch) : std::nullopt;
        best_state_ = std::move(best_state);
    }

  private:
    /// Calls f with the memory of every parameter, then of every buffer.
    template <class State, class F>
    static void for_each_tensor(State& s, F&& f) {
        for (auto& p : s.parameters) {
            f(std::as_writable_bytes(p.value));
        }
        for (auto& b : s.buffers) {
            std::visit([&f](auto v) { f(std::as_writable_bytes(v)); }, b.value);
        }
    }

    early_stopping_options options_;
    detail::monitor monitor_;
    std::size_t wait_ = 0;
    std::size_t best_epoch_ = 0;
    std::optional<std::size_t> stopped_epoch_;
    std::vector<std::byte> best_state_; // the best epoch's parameters and buffers, bit for bit
};

} // namespace xtnn
