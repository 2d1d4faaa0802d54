/// @file
/// What every optimizer shares: learning rate, step count, per-parameter state by position.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtnn/core/denormals.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/saved_state.hpp>

namespace xtnn {

/// @defgroup optimizers Optimizers
/// In-place parameter updates from gradients, once per batch.

namespace detail {

/// The common part of the optimizers (CRTP). `Derived` provides
/// `static constexpr std::string_view name` and
/// `void update(std::span<T> value, std::span<const T> gradient, std::array<std::span<T>, Slots>
/// state, T learning_rate)`, called after the step counter has advanced for every parameter,
/// or for parts of a large one on several threads at once: an update is element by element.
/// `Slots` is the number of state buffers per parameter (Adam: 2, moments).
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
    /// allocated after that. Denormals are flushed to zero during the step only. A gradient
    /// whose rows a product split over threads (xtnn::dense's weights, in large batches) is
    /// applied by the same rows on the same threads, so that each thread's rows of the weight,
    /// gradient and state stay in its core's cache; the results are the same on any number of
    /// threads.
    /// @throws shape_error if the parameter list changed size or shapes since the first step.
    void step(std::span<parameter_view<T>> parameters) {
        flush_denormals_guard guard;
        prepare(parameters);
        ++iterations_;
        const T rate = static_cast<T>(learning_rate_);
        owned_.resize(parameters.size()); // sized once
        std::size_t most = 1;
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            owned_[i] = owned_parts(parameters[i].gradient.data()); // this thread's record
            if (owned_[i] > 1) {
                most = std::max(most, owned_[i]);
            } else {
                update_part(parameters[i], i, 0, parameters[i].value.size(), rate);
            }
        }
        if (most > 1) {
            parallel_for(partition(most, 1, most), [&](std::size_t part, std::size_t, std::size_t) {
                for (std::size_t i = 0; i < parameters.size(); ++i) {
                    if (owned_[i] > 1 && part < owned_[i]) {
                        const auto [begin, end] = owned_values(parameters[i], part, owned_[i]);
                        update_part(parameters[i], i, begin, end, rate);
                    }
                }
            });
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
    /// Values [begin, end) of parameter i updated.
    void update_part(parameter_view<T>& p, std::size_t i, std::size_t begin, std::size_t end,
                     T rate) {
        std::array<std::span<T>, Slots> slots;
        for (std::size_t s = 0; s < Slots; ++s) {
            slots[s] = std::span<T>(state_[i][s]).subspan(begin, end - begin);
        }
        static_cast<Derived&>(*this).update(
            p.value.subspan(begin, end - begin),
            std::span<const T>(p.gradient).subspan(begin, end - begin), slots, rate);
    }

    /// The values of part `part` of `parts` of a parameter: its rows of owned_partition(),
    /// from and to multiples of 64 values, so that every value goes through the vector loops
    /// it would whole.
    static std::pair<std::size_t, std::size_t> owned_values(const parameter_view<T>& p,
                                                            std::size_t part, std::size_t parts) {
        const std::size_t size = p.value.size();
        const std::size_t rows = p.shape.empty() ? size : p.shape[0];
        const std::size_t per_row = rows == 0 ? 0 : size / rows;
        const partition split = owned_partition(rows, parts);
        const auto at = [&](std::size_t q) {
            if (q >= split.parts) {
                return size;
            }
            return std::min(split.begin(q) * owned_unit * per_row / 64 * 64, size);
        };
        return {at(part), at(part + 1)};
    }

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
    std::vector<std::size_t> owned_; // each parameter's parts in this step (owned_parts)
};

} // namespace detail
} // namespace xtnn
