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
#include <xtnn/core/saved_state.hpp>

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

    /// Puts the learning rate, the step count and every parameter's state (moments, momentum)
    /// into `s`, bit for bit: what fit's backups keep (fit_options::backup).
    void save_state(saved_state& s) const {
        s.put("name", std::string(Derived::name));
        s.put("learning_rate", learning_rate_);
        s.put("iterations", iterations_);
        s.put("sizes", sizes_);
        for (std::size_t i = 0; i < state_.size(); ++i) {
            for (std::size_t k = 0; k < Slots; ++k) {
                s.put("state/" + std::to_string(i) + "/" + std::to_string(k), state_[i][k]);
            }
        }
    }

    /// Continues from a save_state() of an optimizer of the same kind: the next step is the
    /// one the saved optimizer would have taken.
    /// @throws io_error, leaving this optimizer as it was, if `s` is another kind's, or its
    /// values are missing, of other sizes or an impossible learning rate.
    void load_state(const saved_state& s) {
        std::string kind;
        s.get("name", kind);
        const std::string where = std::string(Derived::name) + "::load_state";
        if (kind != Derived::name) {
            throw io_error(where + ": the state is an optimizer '" + kind.substr(0, 60) +
                           "''s; expected '" + std::string(Derived::name) + "''s");
        }
        double rate = 0;
        std::size_t iterations = 0;
        std::vector<std::size_t> sizes;
        s.get("learning_rate", rate);
        s.get("iterations", iterations);
        s.get("sizes", sizes);
        if (!(rate > 0.0 && rate < 1e300)) {
            throw io_error(where + ": the learning rate is " + std::to_string(rate) +
                           "; expected > 0 and finite");
        }
        std::vector<std::array<std::vector<T>, Slots>> state(sizes.size());
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            for (std::size_t k = 0; k < Slots; ++k) {
                const std::string key = "state/" + std::to_string(i) + "/" + std::to_string(k);
                s.get(key, state[i][k]);
                if (state[i][k].size() != sizes[i]) {
                    throw io_error(where + ": '" + key + "' holds " +
                                   std::to_string(state[i][k].size()) + " values; expected " +
                                   std::to_string(sizes[i]));
                }
            }
        }
        learning_rate_ = rate;
        iterations_ = iterations;
        sizes_ = std::move(sizes);
        state_ = std::move(state);
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
