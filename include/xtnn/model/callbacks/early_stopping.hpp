/// @file
/// early_stopping: stop when a watched value stops improving, optionally restoring the best.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
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
/// With `restore_best_weights`, the weights of the best epoch are copied after each
/// improvement (one copy of the parameters, allocated once) and put back when training ends,
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
        best_weights_.clear();
    }

    /// Records an improvement, or counts an epoch without one and stops after `patience`.
    template <class State>
    void on_epoch_end(State& s) {
        if (monitor_.improves(monitor_.read(s, "early_stopping"))) {
            wait_ = 0;
            best_epoch_ = s.epoch;
            if (options_.restore_best_weights) {
                best_weights_.clear();
                for (const auto& p : s.parameters) {
                    best_weights_.insert(best_weights_.end(), p.value.begin(), p.value.end());
                }
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
        if (!options_.restore_best_weights || best_weights_.empty()) {
            return;
        }
        auto it = best_weights_.begin();
        for (auto& p : s.parameters) {
            for (auto& v : p.value) {
                v = static_cast<std::remove_reference_t<decltype(v)>>(*it++);
            }
        }
    }

  private:
    early_stopping_options options_;
    detail::monitor monitor_;
    std::size_t wait_ = 0;
    std::size_t best_epoch_ = 0;
    std::optional<std::size_t> stopped_epoch_;
    std::vector<double> best_weights_; // exact for float and double parameters
};

} // namespace xtnn
