/// @file
/// The metric contract, and the class-target checks the classification metrics share.
#pragma once

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn {

/// @defgroup metrics Metrics
/// Running measures of a model's predictions, accumulated over batches.

/// A metric for predictions `P` and targets `Y`: accumulated batch by batch, read at the end.
///
/// - `reset()`: forget everything (called at the start of each epoch and evaluation);
/// - `update(prediction, target)`, returning void: add one batch;
/// - `result() const -> double`: the value over everything added since reset();
/// - `name() const`: the key in histories and reports, e.g. "accuracy".
///
/// update() must not allocate once warmed up: fit calls it for every batch.
/// @ingroup metrics
template <class M, class P, class Y>
concept metric = requires(M& m, const M& cm, const P& prediction, const Y& target) {
    m.reset();
    { m.update(prediction, target) } -> std::same_as<void>;
    { cm.result() } -> std::convertible_to<double>;
    { cm.name() } -> std::convertible_to<std::string>;
};

namespace detail {

/// The counts of a metric that is a fraction of samples right (accuracy, top_k_accuracy): the
/// samples right and seen since reset, and their state in fit's backups.
struct right_of_seen {
    std::size_t right = 0; ///< Samples right.
    std::size_t seen = 0;  ///< Samples seen.
    /// right / seen (0 before any sample).
    double fraction() const {
        return seen == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(seen);
    }
    /// Puts the counts into `s`.
    void save_state(saved_state& s) const {
        s.put("right", right);
        s.put("total", seen);
    }
    /// Continues from a save_state().
    /// @throws io_error, leaving the counts as they were, if `s` holds no such counts.
    void load_state(const saved_state& s) {
        right_of_seen loaded;
        s.get("right", loaded.right);
        s.get("total", loaded.seen);
        *this = loaded;
    }
};

/// The sentence of the classification metrics' fallback update (accuracy, top_k_accuracy,
/// confusion_matrix): called only for arguments that their real update does not take.
template <class P, class Y>
consteval rejected reject_class_metric_arguments() {
    static_assert(any_tensor<P> && rank_of<P> == 2 && std::floating_point<element_of<P>>,
                  "xtnn: a classification metric (accuracy, top_k_accuracy, confusion_matrix) "
                  "takes predictions (batch, classes): a rank-2 xtnn::tensor of floats or "
                  "doubles");
    static_assert(any_tensor<Y>, "xtnn: a classification metric takes targets as an xtnn::tensor "
                                 "of class indices (batch) or one-hot rows (batch, classes)");
    return {};
}

/// The class of row r of a classification target: a class index, or the argmax of a one-hot
/// (or probability) row. Checks the shapes and the index range.
template <std::floating_point T, class Target>
std::size_t target_class(const tensor<T, 2>& prediction, const Target& target, std::size_t r,
                         std::string_view where) {
    const std::size_t classes = prediction.shape()[1];
    if constexpr (Target::rank == 1) {
        return class_index(target.data()[r], classes, r, where);
    } else {
        return argmax(target.data() + r * classes, classes);
    }
}

/// Checks that prediction (batch, classes) and target (batch) or (batch, classes) fit.
template <std::floating_point T, class Target>
void check_class_targets(const tensor<T, 2>& prediction, const Target& target,
                         std::string_view where) {
    static_assert(Target::rank == 1 || Target::rank == 2,
                  "xtnn: classification targets are class indices (batch) or one-hot rows "
                  "(batch, classes)");
    if constexpr (Target::rank == 1) {
        static_assert(std::integral<typename Target::value_type>,
                      "xtnn: class-index targets must be integers");
        if (target.shape()[0] != prediction.shape()[0]) {
            throw shape_error(mismatch_message(
                std::string(where) + "::update", "one label per row of predictions",
                "(" + std::to_string(prediction.shape()[0]) + ",)", format_shape(target.shape())));
        }
    } else {
        require_shape(prediction.shape(), target.shape(), {where, "update"},
                      "predictions and one-hot targets differ");
    }
    if (prediction.shape()[1] == 0) {
        throw shape_error(mismatch_message(std::string(where) + "::update", "no classes",
                                           "(batch, classes > 0)",
                                           format_shape(prediction.shape())));
    }
}

} // namespace detail
} // namespace xtnn
