/// @file
/// What every optimizer shares: learning rate, step count, per-parameter state by position.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xtnn/core/denormals.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parameter.hpp>

namespace xtnn {

/// @defgroup optimizers Optimizers
/// In-place parameter updates from gradients, once per batch.

namespace detail {

/// The common part of the optimizers (CRTP). `Derived` provides
/// `static constexpr std::string_view name` and
/// `void update(std::span<T> value, std::span<const T> gradient, std::array<std::span<T>, Slots>
/// state, T learning_rate)`, called once per parameter per step after the step counter has
/// advanced. `Slots` is the number of state buffers per parameter (Adam: 2, moments).
template <class Derived, std::floating_point T, std::size_t Slots>
class optimizer_base {
  public:
    using value_type = T; ///< The scalar type of the parameters.

    /// The current learning rate.
    double learning_rate() const { return learning_rate_; }

    /// Changes the learning rate from the next step on (for schedules).
    /// @throws config_error unless `rate` is > 0 and finite.
    void set_learning_rate(double rate) {
        detail::require_option(rate > 0.0 && rate < 1e300, std::string(Derived::name),
                               "learning_rate", "> 0 and finite", rate);
        learning_rate_ = rate;
    }

    /// The number of steps taken.
    std::size_t iterations() const { return iterations_; }

    /// Forgets all state (moments, step count); the next step sizes it afresh.
    void reset() {
        state_.clear();
        sizes_.clear();
        iterations_ = 0;
    }

    /// One update of every parameter from its gradient, in place.
    ///
    /// State is kept per position in `parameters` and sized on the first step; nothing is
    /// allocated after that. Denormals are flushed to zero during the step only.
    /// @throws shape_error if the parameter list changed size or shapes since the first step.
    void step(std::span<parameter_view<T>> parameters) {
        flush_denormals_guard guard;
        prepare(parameters);
        ++iterations_;
        const T rate = static_cast<T>(learning_rate_);
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            std::array<std::span<T>, Slots> slots;
            for (std::size_t s = 0; s < Slots; ++s) {
                slots[s] = std::span<T>(state_[i][s]);
            }
            static_cast<Derived&>(*this).update(
                parameters[i].value, std::span<const T>(parameters[i].gradient), slots, rate);
        }
    }

    /// Steps over a vector of views (what sequential::parameters() returns).
    void step(std::vector<parameter_view<T>>& parameters) {
        step(std::span<parameter_view<T>>(parameters));
    }

  protected:
    explicit optimizer_base(double learning_rate) { set_learning_rate(learning_rate); }

  private:
    void prepare(std::span<parameter_view<T>> parameters) {
        if (sizes_.empty() && state_.empty()) {
            state_.resize(parameters.size());
            sizes_.resize(parameters.size());
            for (std::size_t i = 0; i < parameters.size(); ++i) {
                if (parameters[i].gradient.size() != parameters[i].value.size()) {
                    throw shape_error(mismatch_message(
                        std::string(Derived::name) + "::step",
                        "parameter " + std::to_string(i) + " ('" + parameters[i].name +
                            "') has a gradient of another size",
                        std::to_string(parameters[i].value.size()) + " gradients",
                        std::to_string(parameters[i].gradient.size())));
                }
                sizes_[i] = parameters[i].value.size();
                for (auto& slot : state_[i]) {
                    slot.assign(sizes_[i], T(0));
                }
            }
            return;
        }
        if (parameters.size() != sizes_.size()) {
            throw shape_error(mismatch_message(
                std::string(Derived::name) + "::step",
                "the number of parameters changed since the first step (call reset() to "
                "optimize a different model)",
                std::to_string(sizes_.size()), std::to_string(parameters.size())));
        }
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const auto& p = parameters[i];
            if (p.value.size() != sizes_[i] || p.gradient.size() != sizes_[i]) {
                throw shape_error(
                    mismatch_message(std::string(Derived::name) + "::step",
                                     "parameter " + std::to_string(i) + " ('" + p.name +
                                         "') changed size since the first step",
                                     std::to_string(sizes_[i]) + " values",
                                     std::to_string(p.value.size()) + " values, " +
                                         std::to_string(p.gradient.size()) + " gradients"));
            }
        }
    }

    double learning_rate_ = 0.0;
    std::size_t iterations_ = 0;
    std::vector<std::array<std::vector<T>, Slots>> state_;
    std::vector<std::size_t> sizes_;
};

} // namespace detail
} // namespace xtnn
