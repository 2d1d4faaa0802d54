/// @file
/// Learning-rate schedules: step, exponential and cosine decay by epoch, and reduce on plateau.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/options.hpp>
#include <xtnn/model/callbacks/monitor.hpp>

namespace xtnn {

namespace detail {

/// A schedule of the epoch: remembers the optimizer's rate when training begins (η₀) and
/// sets `Derived::rate(epoch, η₀)` at the start of each epoch.
template <class Derived>
class epoch_schedule {
  public:
    /// Remembers the starting rate.
    template <class State>
    void on_train_begin(State& s) {
        initial_ = s.learning_rate;
    }
    /// Sets this epoch's rate.
    template <class State>
    void on_epoch_begin(State& s) {
        s.learning_rate = static_cast<const Derived&>(*this).rate(s.epoch, initial_);
    }
    /// Puts the starting rate into `s` (fit's backups keep it: the rate at a resume is not it).
    void save_state(saved_state& s) const { s.put("initial", initial_); }
    /// Continues from a save_state().
    void load_state(const saved_state& s) { s.get("initial", initial_); }

  private:
    double initial_ = 0;
};

} // namespace detail

/// Step decay: `η = η₀ γ^⌊epoch / step_size⌋` (PyTorch's StepLR).
/// @throws config_error for step_size 0 or γ outside (0, 1].
/// @code
/// trainer.fit(x, y, {.epochs = 30}, xtnn::step_decay(10, 0.1));   // ÷10 every 10 epochs
/// @endcode
/// @ingroup model
class step_decay : public detail::epoch_schedule<step_decay> {
  public:
    /// Multiplies the rate by `gamma` every `step_size` epochs.
    explicit step_decay(std::size_t step_size, double gamma = 0.1)
        : step_size_(step_size), gamma_(gamma) {
        detail::require_option(step_size > 0, "step_decay", "step_size", "> 0", 0.0);
        detail::require_option(gamma > 0 && gamma <= 1, "step_decay", "gamma", "in (0, 1]", gamma);
    }
    /// The rate at `epoch` for a starting rate `initial`.
    double rate(std::size_t epoch, double initial) const {
        return initial * std::pow(gamma_, static_cast<double>(epoch / step_size_));
    }

  private:
    std::size_t step_size_;
    double gamma_;
};

/// Exponential decay: `η = η₀ γ^epoch` (PyTorch's ExponentialLR).
/// @throws config_error for γ outside (0, 1].
/// @code
/// trainer.fit(x, y, {.epochs = 30}, xtnn::exponential_decay(0.95));
/// @endcode
/// @ingroup model
class exponential_decay : public detail::epoch_schedule<exponential_decay> {
  public:
    /// Multiplies the rate by `gamma` every epoch.
    explicit exponential_decay(double gamma) : gamma_(gamma) {
        detail::require_option(gamma > 0 && gamma <= 1, "exponential_decay", "gamma", "in (0, 1]",
                               gamma);
    }
    /// The rate at `epoch` for a starting rate `initial`.
    double rate(std::size_t epoch, double initial) const {
        return initial * std::pow(gamma_, static_cast<double>(epoch));
    }

  private:
    double gamma_;
};

/// Cosine decay over `period` epochs: `η = η_min + (η₀ - η_min) (1 + cos(π t / period)) / 2`
/// with t = min(epoch, period) (PyTorch's CosineAnnealingLR, without restarts).
/// @throws config_error for period 0 or a negative minimum.
/// @code
/// trainer.fit(x, y, {.epochs = 50}, xtnn::cosine_decay(50));
/// @endcode
/// @ingroup model
class cosine_decay : public detail::epoch_schedule<cosine_decay> {
  public:
    /// Decays from the starting rate to `minimum` over `period` epochs.
    explicit cosine_decay(std::size_t period, double minimum = 0.0)
        : period_(period), minimum_(minimum) {
        detail::require_option(period > 0, "cosine_decay", "period", "> 0", 0.0);
        detail::require_option(minimum >= 0, "cosine_decay", "minimum", ">= 0", minimum);
    }
    /// The rate at `epoch` for a starting rate `initial`.
    double rate(std::size_t epoch, double initial) const {
        const double t =
            static_cast<double>(std::min(epoch, period_)) / static_cast<double>(period_);
        return std::max(
            minimum_ + (initial - minimum_) * 0.5 * (1 + std::cos(std::numbers::pi * t)), 1e-300);
    }

  private:
    std::size_t period_;
    double minimum_;
};

/// Options of reduce_on_plateau (Keras' ReduceLROnPlateau defaults).
/// @ingroup model
struct reduce_on_plateau_options {
    std::string monitor = "val_loss";            ///< The logged value to watch.
    monitor_mode mode = monitor_mode::automatic; ///< Whether it should fall or rise.
    double factor = 0.1;                         ///< Multiplies the rate, in (0, 1).
    std::size_t patience = 10;                   ///< Epochs without improvement to allow.
    double min_delta = 1e-4;                     ///< Smaller changes do not count.
    std::size_t cooldown = 0;                    ///< Epochs to wait after a reduction.
    double min_learning_rate = 0.0;              ///< The rate never goes below this.
};

/// Multiplies the learning rate by `factor` when the watched value has not improved for
/// `patience` epochs.
/// @code
/// trainer.fit(x, y, {.epochs = 100, .validation_split = 0.1},
///             xtnn::reduce_on_plateau({.factor = 0.5, .patience = 3}));
/// @endcode
/// @ingroup model
class reduce_on_plateau {
  public:
    /// `reduce_on_plateau({})`: the default options, as `reduce_on_plateau()`.
    explicit reduce_on_plateau(detail::empty_braces) : reduce_on_plateau() {}
    /// A callback with the given options.
    explicit reduce_on_plateau(reduce_on_plateau_options options = {})
        : options_(options),
          monitor_(options.monitor, options.mode, options.min_delta, "reduce_on_plateau") {
        detail::require_option(options.factor > 0 && options.factor < 1, "reduce_on_plateau",
                               "factor", "in (0, 1)", options.factor);
        detail::require_option(options.min_learning_rate >= 0, "reduce_on_plateau",
                               "min_learning_rate", ">= 0", options.min_learning_rate);
    }

    /// Resets the watch.
    template <class State>
    void on_train_begin(State&) {
        monitor_.reset();
        wait_ = cooldown_left_ = 0;
    }

    /// Counts epochs without improvement and reduces the rate after `patience` of them.
    template <class State>
    void on_epoch_end(State& s) {
        const bool improved = monitor_.improves(monitor_.read(s, "reduce_on_plateau"));
        if (cooldown_left_ > 0) {
            --cooldown_left_;
            wait_ = 0;
        }
        if (improved) {
            wait_ = 0;
            return;
        }
        if (cooldown_left_ == 0 && ++wait_ >= std::max<std::size_t>(options_.patience, 1)) {
            const double reduced = s.learning_rate * options_.factor;
            s.learning_rate = std::max({reduced, options_.min_learning_rate, 1e-300});
            cooldown_left_ = options_.cooldown;
            wait_ = 0;
        }
    }

    /// Puts the watch, the epochs without improvement and the cooldown into `s`.
    void save_state(saved_state& s) const {
        saved_state watch;
        monitor_.save_state(watch);
        s.put("monitor", watch);
        s.put("wait", wait_);
        s.put("cooldown_left", cooldown_left_);
    }
    /// Continues from a save_state().
    void load_state(const saved_state& s) {
        std::size_t wait = 0;
        std::size_t cooldown_left = 0;
        s.get("wait", wait);
        s.get("cooldown_left", cooldown_left);
        monitor_.load_state(s.part("monitor"));
        wait_ = wait;
        cooldown_left_ = cooldown_left;
    }

  private:
    reduce_on_plateau_options options_;
    detail::monitor monitor_;
    std::size_t wait_ = 0;
    std::size_t cooldown_left_ = 0;
};

} // namespace xtnn
