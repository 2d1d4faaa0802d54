/// @file
/// trainer: a model compiled with its loss, optimizer and metrics; fit, evaluate, predict.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/gather_rows.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/core/visit.hpp>
#include <xtnn/io/backup.hpp>
#include <xtnn/metrics/metric.hpp>
#include <xtnn/model/callbacks/callback.hpp>
#include <xtnn/model/callbacks/progress_bar.hpp>
#include <xtnn/model/callbacks/terminate_on_nan.hpp>
#include <xtnn/model/data_parallel.hpp>
#include <xtnn/model/fit_loop.hpp>
#include <xtnn/model/history.hpp>
#include <xtnn/model/predict.hpp>
#include <xtnn/model/sample_weights.hpp>
#include <xtnn/model/step_replicas.hpp>

namespace xtnn {

/// How much fit() prints.
/// @ingroup model
enum class verbosity {
    automatic, ///< a progress bar on a terminal, one line per epoch otherwise
    silent,    ///< nothing
    bar,       ///< always the progress bar
    lines      ///< always one line per epoch
};

/// Options of trainer::fit().
/// @ingroup model
struct fit_options {
    std::size_t epochs = 1;        ///< Train until this epoch (exclusive), counting from 0.
    std::size_t batch_size = 32;   ///< Samples per step (> 0); the last batch may be smaller.
    bool shuffle = true;           ///< Reshuffle the training samples every epoch (seeded).
    double validation_split = 0.0; ///< Fraction of samples held out for validation, [0, 1).
    std::size_t initial_epoch = 0; ///< The epoch to start at (to resume training).
    std::uint64_t seed = 0;        ///< Seed of the validation split and the shuffles.
    verbosity verbose = verbosity::automatic; ///< What fit prints.
    /// Before the first step, throw numeric_error naming the first sample whose input or
    /// floating-point target is NaN or infinite (training and validation data); while
    /// training, throw numeric_error (naming the epoch and batch) when a batch's loss is NaN
    /// or infinite, before that batch changes the weights.
    bool check_finite = true;
    /// The weight of each class in the training loss (Keras' `class_weight`, PyTorch's
    /// `CrossEntropyLoss(weight=…)`); empty: every class weighs 1. One weight per class for
    /// class indices or one-hot rows; two (classes 0 and 1) for binary targets in [0, 1].
    std::vector<double> class_weight{};
    /// The weight of each training sample (Keras' `sample_weight`), multiplying its class's
    /// weight; empty: every sample weighs 1.
    std::vector<double> sample_weight{};
    /// The processes to train on, data-parallel (e.g. an xtnn::mpi::communicator); null: this
    /// process alone. Every process calls fit with the same data, model and options: each
    /// trains a replica on its contiguous share of every batch, and their gradients are summed
    /// so that the weights are one process's with the same batch_size (within rounding). See
    /// docs/distributed.md.
    process_group* distributed = nullptr;
    /// Back up the training to a file and resume from it (see backup_options): a run killed
    /// at any moment and started again ends with an uninterrupted run's bits. A resumed fit
    /// starts where the backup left off, whatever initial_epoch says.
    backup_options backup{};
};

/// Options of trainer::evaluate().
/// @ingroup model
struct evaluate_options {
    std::size_t batch_size = 256; ///< Samples per forward pass (> 0).
    /// Throw numeric_error naming the sample when an output or a loss is NaN or infinite.
    bool check_finite = true;
    std::vector<double> class_weight{};  ///< As fit_options::class_weight, for the reported loss.
    std::vector<double> sample_weight{}; ///< As fit_options::sample_weight, for the reported loss.
};

/// Explicit validation data for trainer::fit(), held by reference for the call.
/// @ingroup model
template <class X, class Y>
struct validation_data {
    const X& x; ///< Validation inputs.
    const Y& y; ///< Validation targets.
};
/// Deduces the tensor types: `xtnn::validation_data{x_val, y_val}`.
template <class X, class Y>
validation_data(const X&, const Y&) -> validation_data<X, Y>;

namespace detail {
template <class T>
inline constexpr bool is_validation_data = false;
template <class X, class Y>
inline constexpr bool is_validation_data<validation_data<X, Y>> = true;
} // namespace detail

/// The loss and metrics of a model on a dataset, as trainer::evaluate() measures them.
/// @ingroup model
struct evaluation {
    std::vector<log_entry> values; ///< "loss" first, then each metric.
    /// The value named `name`.
    /// @throws std::out_of_range for an unknown name.
    double operator[](std::string_view name) const {
        for (const auto& v : values) {
            if (v.name == name) {
                return v.value;
            }
        }
        throw std::out_of_range("evaluation: no value named '" + std::string(name) + "'");
    }
    /// The mean loss.
    double loss() const { return (*this)["loss"]; }
};

/// A model compiled with a loss, an optimizer and metrics, as Keras' `compile`: trains with
/// fit(), measures with evaluate(), runs with predict().
///
/// fit() runs epochs of seeded, shuffled mini-batches: rows are gathered into a reused batch
/// buffer, then forward, loss, backward and optimizer step, with the metrics updated from the
/// training outputs. After the first batch of a given size nothing is allocated. With
/// `validation_split` (a seeded random subset: unlike Keras, not the last samples, so data
/// sorted by class still gives a fair split) or validation_data, each epoch ends with an
/// evaluation whose values are logged as "val_loss", "val_accuracy"…
///
/// Threads: a model whose layers all train each sample apart runs each step as cache-sized
/// groups of samples (sequential::training_group); on several threads (xtnn::num_threads),
/// when the model holds layers that split the batch over xtnn's threads (convolutions,
/// pooling), each thread takes a run of the groups on a copy of the model of its own, made
/// at fit's first step, and the copies' gradients are added into the model's before the
/// optimizer steps. The loss's const functions are then called from those threads at once.
///
/// Determinism: the same seed, data and model initialization give bit-identical weights on
/// the same machine and BLAS thread count (the shuffles, the split and dropout are seeded, and
/// xtnn's own loops run in a fixed order). Across BLAS thread counts the results agree only
/// closely: OpenBLAS splits a product differently with 2 threads than with 1, and the
/// threads' gradients are added in another order, which changes the rounding of some sums in
/// the last bits (dropout's masks stay the same).
///
/// The trainer refers to the model (it must outlive the trainer) and owns the loss,
/// optimizer and metrics.
/// @code
/// xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
///                       xtnn::adam({.learning_rate = 1e-3}), xtnn::accuracy{}};
/// auto history = trainer.fit(x_train, y_train, {.epochs = 5, .validation_split = 0.1});
/// auto report = trainer.evaluate(x_test, y_test);     // report.loss(), report["accuracy"]
/// @endcode
/// @tparam Model a sequential (or any layer). @tparam Loss a loss for its outputs.
/// @tparam Optimizer an optimizer of its scalar type. @tparam Metrics metrics.
/// @ingroup model
/// @cond XTNN_DETAIL
// The checks of fit's or evaluate's data types X and Y, in the trainer's rejecting overloads.
#define XTNN_DETAIL_REQUIRE_DATA(WHERE)                                                            \
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: " WHERE ": the model takes", "input", input, X, value_type,  \
                               Model::input_rank);                                                 \
    static_assert(any_tensor<Y>, "xtnn: " WHERE ": the targets must be an xtnn::tensor (class "    \
                                 "indices (batch), one-hot rows or regression targets)");          \
    static_assert(!any_tensor<Y> || takes_targets<Y> || explained<Y>,                              \
                  "xtnn: " WHERE ": the loss or a metric does not take these targets for the "     \
                  "model's outputs (softmax_cross_entropy and accuracy take integer class "        \
                  "indices (batch) or one-hot rows (batch, classes); regression losses take "      \
                  "targets of the outputs' shape and scalar type)")
/// @endcond

template <class Model, class Loss, class Optimizer, class... Metrics>
class trainer {
  public:
    using value_type = typename Model::value_type;   ///< The scalar type.
    using input_type = typename Model::input_type;   ///< Model inputs.
    using output_type = typename Model::output_type; ///< Model outputs.

  private:
    /// Whether the loss or a metric that does not take targets Y has a fallback overload (one
    /// returning detail::rejected) whose sentence explain_targets() brings out: then fit and
    /// evaluate say nothing more general.
    template <class M, class Y>
    static constexpr bool metric_explains = requires(M& m, const output_type& p, const Y& t) {
        { m.update(p, t) } -> std::same_as<detail::rejected>;
    };
    template <class Y>
    static constexpr bool explained = requires(const Loss& l, const output_type& p, const Y& t) {
        { l.value(p, t) } -> std::same_as<detail::rejected>;
    }
    || (metric_explains<Metrics, Y> || ...);

    /// Whether every argument after fit's options is a callback for the model's scalar type
    /// (a const one counts only if its hooks are const).
    template <class... Callbacks>
    static constexpr bool
        takes_callbacks = (callback<std::remove_reference_t<Callbacks>, value_type> && ...);

    /// Whether the loss and every metric take targets Y for the model's outputs.
    template <class Y>
    static constexpr bool takes_targets = any_tensor<Y>&& xtnn::loss<Loss, output_type, Y> &&
                                          (metric<Metrics, output_type, Y> && ...);

  public:
    /// Compiles `model` (kept by reference) with its loss, optimizer and metrics.
    trainer(Model& model, Loss loss, Optimizer optimizer, Metrics... metrics)
        : model_(model), loss_(std::move(loss)), optimizer_(std::move(optimizer)),
          metrics_(std::move(metrics)...) {}

    /// The model.
    Model& model() { return model_; }
    /// The optimizer (to read or change its learning rate).
    Optimizer& optimizer() { return optimizer_; }
    /// The loss.
    const Loss& loss() const { return loss_; }
    /// The metrics.
    std::tuple<Metrics...>& metrics() { return metrics_; }

    /// Trains on `x` and targets `y` (class indices or target tensors, one per sample) and
    /// returns the per-epoch history. Callbacks are run in order after the progress display.
    ///
    /// `x` must be exactly input_type and `y` a tensor the loss and the metrics take: other
    /// ranks and scalar types do not compile. Class-index targets are checked against the
    /// model's number of outputs before the first step.
    /// @throws shape_error if x and y differ in samples or the model rejects x;
    /// std::out_of_range naming the first sample whose class label is out of range;
    /// config_error for impossible options.
    template <class Y, class... Callbacks>
    requires takes_targets<Y> && takes_callbacks<Callbacks...>
        history fit(const input_type& x, const Y& y, const fit_options& options = {},
                    Callbacks&&... callbacks) {
        return run_fit<Y, input_type, Y>(x, y, nullptr, nullptr, options, callbacks...);
    }

    /// Trains as above, validating on `validation` at the end of every epoch.
    template <class Y, class... Callbacks>
    requires takes_targets<Y> && takes_callbacks<Callbacks...>
        history fit(const input_type& x, const Y& y,
                    const validation_data<input_type, Y>& validation,
                    const fit_options& options = {}, Callbacks&&... callbacks) {
        detail::require_option(options.validation_split == 0.0, "fit", "validation_split",
                               "0 when validation data is given", options.validation_split);
        return run_fit<Y, input_type, Y>(x, y, &validation.x, &validation.y, options, callbacks...);
    }

    /// @cond XTNN_DETAIL
    // Any other data: xtensor would convert inputs implicitly (a tensor of another rank
    // corrupts memory), so these exact matches win and name what fit takes; so does an
    // argument after the options that is not a callback, which fit would otherwise ignore.
    template <class X, class Y, class... Callbacks>
    requires(!std::same_as<X, input_type> || !takes_targets<Y> ||
             !takes_callbacks<Callbacks...>) detail::rejected
        fit(const X&, const Y& y, const fit_options& = {}, Callbacks&&...) {
        reject_data<true, X>(y);
        reject_callbacks<std::same_as<X, input_type> && takes_targets<Y>, Callbacks...>();
        return {};
    }
    template <class X, class Y, class XV, class YV, class... Callbacks>
    requires(!std::same_as<X, input_type> || !takes_targets<Y> || !std::same_as<XV, X> ||
             !std::same_as<YV, Y> || !takes_callbacks<Callbacks...>) detail::rejected
        fit(const X&, const Y& y, const validation_data<XV, YV>&, const fit_options& = {},
            Callbacks&&...) {
        reject_data<true, X>(y);
        constexpr bool data_right = std::same_as<X, input_type> && takes_targets<Y>;
        static_assert(!data_right || (std::same_as<XV, X> && std::same_as<YV, Y>),
                      "xtnn: fit: validation_data must have the training data's tensor types "
                      "(the same ranks and scalar types as x and y)");
        reject_callbacks<data_right && std::same_as<XV, X> && std::same_as<YV, Y>, Callbacks...>();
        return {};
    }
    /// @endcond

    /// The mean loss and the metrics of the model on `x`, `y`, in inference mode.
    ///
    /// With `check_finite` (the default), NaN or infinite outputs or losses (from NaN in the
    /// input or the weights) are an error, as in fit, rather than figures computed from them.
    /// With class or sample weights, the loss is their weighted mean (as in fit); the metrics
    /// count every sample once.
    /// @throws shape_error if x and y differ in samples or there are none; numeric_error naming
    /// the sample whose output is not finite; std::out_of_range for a class label out of range;
    /// config_error for impossible options or weights.
    template <class Y>
    requires takes_targets<Y> evaluation evaluate(const input_type& x, const Y& y,
                                                  const evaluate_options& options = {}) {
        detail::require_option(options.batch_size > 0, "evaluate", "batch_size", "> 0", 0.0);
        const auto held = detail::hold(model_); // other threads' calls on the model wait
        check_samples(x, y, "evaluate");
        if (x.shape()[0] == 0) {
            throw shape_error("evaluate: no samples to evaluate; got x " + format_shape(x.shape()));
        }
        check_labels(x, y, "evaluate");
        const auto weights =
            weights_of(x, y, options.class_weight, options.sample_weight, "evaluate");
        const auto rows = detail::all_rows(x.shape()[0]);
        std::vector<log_entry> values = log_names("");
        Y y_batch;
        measure(x, y, weights, rows, options.batch_size, values, y_batch, options.check_finite,
                "evaluate");
        return evaluation{std::move(values)};
    }

    /// @cond XTNN_DETAIL
    template <class X, class Y>
    requires(!std::same_as<X, input_type> || !takes_targets<Y>) detail::rejected
        evaluate(const X&, const Y& y, const evaluate_options& = {}) {
        reject_data<false, X>(y);
        return {};
    }
    /// @endcond

    /// The model's outputs on `x` (see xtnn::predict).
    template <class X>
    auto predict(const X& x, std::size_t batch_size = 256) {
        return xtnn::predict(model_, x, batch_size);
    }

  private:
    /// Every sample's weight from class and sample weights (empty: all 1); the loss must take
    /// weights if there are any.
    template <class Y>
    std::vector<value_type>
    weights_of(const input_type& x, const Y& y, const std::vector<double>& class_weight,
               const std::vector<double>& sample_weight, const char* where) const {
        if (class_weight.empty() && sample_weight.empty()) {
            return {};
        }
        if constexpr (weighted_loss<Loss, output_type, Y>) {
            const std::size_t classes =
                Model::output_rank == 2 ? model_.output_shape(x.shape())[1] : 0;
            return detail::sample_weights<value_type>(y, classes, class_weight, sample_weight,
                                                      where);
        } else {
            throw config_error(std::string(where) + ": the loss " + std::string(Loss::name) +
                               " takes no sample weights (see xtnn::weighted_loss), but "
                               "class_weight or sample_weight was given");
        }
    }

    /// The loss of one batch, weighted when `weights` is not empty; with a gradient when
    /// `gradient` is not null.
    template <class Y>
    value_type batch_loss(const output_type& out, const Y& y, std::span<const value_type> weights,
                          output_type* gradient) const {
        if constexpr (weighted_loss<Loss, output_type, Y>) {
            if (!weights.empty()) {
                return gradient != nullptr ? loss_.value_and_gradient(out, y, *gradient, weights)
                                           : loss_.value(out, y, weights);
            }
        }
        return gradient != nullptr ? loss_.value_and_gradient(out, y, *gradient)
                                   : loss_.value(out, y);
    }

    /// The sentences of fit's and evaluate's rejecting overloads: the first kind of mistake
    /// in their data, then (explain_targets) what the loss or a metric takes.
    template <bool Fitting, class X, class Y>
    void reject_data(const Y& y) {
        if constexpr (Fitting) {
            XTNN_DETAIL_REQUIRE_DATA("fit");
        } else {
            XTNN_DETAIL_REQUIRE_DATA("evaluate");
        }
        explain_targets(y);
    }

    /// The sentence for an argument after fit's options that is not a callback (when `Check`:
    /// the data before it was right, so that a call gets one sentence).
    template <bool Check, class... Callbacks>
    static consteval void reject_callbacks() {
        constexpr bool validation_late =
            (detail::is_validation_data<std::remove_cvref_t<Callbacks>> || ...);
        static_assert(!Check || !validation_late,
                      "xtnn: fit: validation_data comes right after the targets, before the "
                      "options: fit(x, y, xtnn::validation_data{x_val, y_val}, options, "
                      "callbacks...)");
        static_assert(!Check || validation_late || takes_callbacks<Callbacks...>,
                      "xtnn: fit: an argument after the options is not a callback for this "
                      "model (a callback has a hook such as on_epoch_end(xtnn::training_state<T>&) "
                      "for the model's scalar type T; see xtnn::callback): fit(x, y, options, "
                      "callbacks...)");
    }

    /// When the loss or a metric does not take targets Y, calls it anyway (at compile time only:
    /// it does not compile), so that its fallback overload names what it takes, e.g.
    /// "xtnn: mean_squared_error: targets must have the prediction's shape: …".
    template <class Y>
    void explain_targets(const Y& y) {
        if constexpr (any_tensor<Y> && !xtnn::loss<Loss, output_type, Y>) {
            (void)loss_.value(output_type{}, y);
        }
        std::apply(
            [&](auto&... m) {
                (
                    [&](auto& one) {
                        using M = std::remove_cvref_t<decltype(one)>;
                        if constexpr (any_tensor<Y> && !metric<M, output_type, Y>) {
                            (void)one.update(output_type{}, y);
                        }
                    }(m),
                    ...);
            },
            metrics_);
    }

    /// Checks class-index targets against the model's number of outputs, once, before any
    /// step, naming the first sample whose label is out of range.
    template <class Y>
    void check_labels(const input_type& x, const Y& y, const char* where) const {
        if constexpr (Model::output_rank == 2 && rank_of<Y> == 1 && std::integral<element_of<Y>>) {
            const std::size_t classes = model_.output_shape(x.shape())[1];
            for (std::size_t i = 0; i < y.size(); ++i) {
                const auto label = y.data()[i];
                if (std::cmp_less(label, 0) || std::cmp_greater_equal(label, classes)) {
                    throw std::out_of_range(std::string(where) + ": the class label of sample " +
                                            std::to_string(i) + " is out of range; expected 0.." +
                                            std::to_string(classes - 1) + ", got " +
                                            std::to_string(label));
                }
            }
        }
    }

    /// Throws numeric_error naming the first sample of `data` (inputs or targets) that holds
    /// NaN or infinity; integer data holds neither.
    template <class D>
    static void require_finite_data(const D& data, const char* where, const char* what) {
        if constexpr (std::floating_point<element_of<D>>) {
            const std::size_t bad = detail::first_not_finite(data.data(), data.size());
            if (bad != data.size()) {
                const std::size_t rows = data.shape()[0];
                const std::size_t row = rows == 0 ? 1 : data.size() / rows;
                throw numeric_error(std::string(where) + ": the " + what + " of sample " +
                                    std::to_string(bad / row) + " is not finite (" +
                                    detail::format_number(data.data()[bad]) +
                                    "); no step was taken (check_finite = false allows it)");
            }
        }
    }

    template <class Y>
    static void check_samples(const input_type& x, const Y& y, const char* where) {
        if (x.shape()[0] != y.shape()[0]) {
            throw shape_error(detail::mismatch_message(
                where, "inputs and targets differ in samples",
                std::to_string(x.shape()[0]) + " targets", format_shape(y.shape())));
        }
    }

    std::vector<log_entry> log_names(const std::string& prefix) const {
        std::vector<log_entry> names{{prefix + "loss", 0.0}};
        std::apply(
            [&](const auto&... m) {
                (names.push_back({prefix + m.name(), 0.0}), ...);
            },
            metrics_);
        return names;
    }

    void reset_metrics() {
        std::apply([](auto&... m) { (m.reset(), ...); }, metrics_);
    }

    template <class Y>
    void update_metrics(const output_type& prediction, const Y& target) {
        std::apply([&](auto&... m) { (m.update(prediction, target), ...); }, metrics_);
    }

    void read_metrics(std::vector<log_entry>& logs, std::size_t first) const {
        std::size_t k = first;
        std::apply([&](const auto&... m) { ((logs[k++].value = m.result()), ...); }, metrics_);
    }

    /// Loss and metrics over `rows` of x and y in inference mode, into values[0..]; the loss
    /// weighted by `weights` (one per sample of x) unless it is empty. With `check_finite`, a
    /// non-finite output or loss is a numeric_error.
    template <class Y>
    void measure(const input_type& x, const Y& y, const std::vector<value_type>& weights,
                 std::span<const std::size_t> rows, std::size_t batch_size,
                 std::vector<log_entry>& values, Y& y_batch, bool check_finite, const char* where) {
        reset_metrics();
        double total = 0;
        double weight_total = 0;
        const detail::batches parts(rows, batch_size);
        for (std::size_t b = 0; b < parts.count(); ++b) {
            const auto part = parts[b];
            gather_rows(x, part, eval_x_);
            gather_rows(y, part, y_batch);
            const double part_weight = detail::gather_weights(weights, part, eval_weights_);
            const auto& out = model_.forward(eval_x_, mode::inference);
            if (check_finite) {
                detail::require_finite_outputs(out, part, where);
            }
            const auto loss = static_cast<double>(
                batch_loss(out, y_batch, std::span<const value_type>(eval_weights_), nullptr));
            if (check_finite && !std::isfinite(loss)) {
                throw numeric_error(
                    std::string(where) + ": the loss of the samples from " +
                    std::to_string(part.front()) + " to " + std::to_string(part.back()) + " is " +
                    detail::format_number(loss) + " (check_finite = false allows it)");
            }
            total += loss * part_weight;
            weight_total += part_weight;
            update_metrics(out, y_batch);
        }
        values[0].value = weight_total > 0 ? total / weight_total : 0.0;
        read_metrics(values, 1);
    }

    /// fit's checks of its options and data, before any step; returns the samples held out
    /// for validation.
    template <class Y, class XV, class YV>
    std::size_t check_fit(const input_type& x, const Y& y, const XV* x_validation,
                          const YV* y_validation, const fit_options& o) const {
        detail::require_option(o.batch_size > 0, "fit", "batch_size", "> 0", 0.0);
        detail::require_option(o.validation_split >= 0.0 && o.validation_split < 1.0, "fit",
                               "validation_split", "in [0, 1)", o.validation_split);
        check_samples(x, y, "fit");
        if (x_validation != nullptr) {
            check_samples(*x_validation, *y_validation, "fit (validation data)");
        }
        const std::size_t n = x.shape()[0];
        const auto held_out =
            static_cast<std::size_t>(std::round(o.validation_split * static_cast<double>(n)));
        if (o.validation_split > 0.0 && (held_out == 0 || held_out >= n)) {
            throw config_error(
                "fit: validation_split " + detail::format_number(o.validation_split) + " of " +
                std::to_string(n) + " samples leaves no training or no validation sample");
        }
        if (n == 0) {
            throw shape_error("fit: no training samples; got x " + format_shape(x.shape()));
        }
        check_labels(x, y, "fit");
        if (o.check_finite) {
            require_finite_data(x, "fit", "input");
            require_finite_data(y, "fit", "target");
        }
        if (x_validation != nullptr) {
            if (x_validation->shape()[0] == 0) {
                throw shape_error("fit: the validation data has no samples; got x " +
                                  format_shape(x_validation->shape()));
            }
            check_labels(*x_validation, *y_validation, "fit (validation data)");
            if (o.check_finite) {
                require_finite_data(*x_validation, "fit (validation data)", "input");
                require_finite_data(*y_validation, "fit (validation data)", "target");
            }
        }
        return held_out;
    }

    /// Keras' fit: epochs of shuffled batches, each a forward pass, the loss, a backward pass
    /// and an optimizer step, the metrics and callbacks after each batch and epoch, validation
    /// at the end of each epoch. `steps` is the step policy: one process, or a process group
    /// (data_parallel.hpp), where everything that may throw on one process runs in
    /// steps.local() and steps.agree() makes every process stop together.
    template <class Y, class XV, class YV, class... Callbacks>
    history run_fit(const input_type& x, const Y& y, const XV* x_validation, const YV* y_validation,
                    const fit_options& o, Callbacks&... callbacks) {
        const auto held = detail::hold(model_); // other threads' calls on the model wait
        detail::data_parallel<value_type> steps(o.distributed);
        std::size_t held_out = 0;
        std::vector<value_type> weights;
        steps.local([&] {
            held_out = check_fit(x, y, x_validation, y_validation, o);
            weights = weights_of(x, y, o.class_weight, o.sample_weight, "fit");
        });
        auto params = model_.parameters();
        auto buffers = model_.buffers();
        steps.start([&] { return replica_fingerprint(x, y, x_validation, y_validation, o); },
                    [&] { return model_lines(params); }, std::span(params), std::span(buffers));
        const auto rows = detail::split_rows(x.shape()[0], held_out, o.seed);

        std::vector<log_entry> train_logs = log_names("");
        std::vector<log_entry> epoch_logs = train_logs;
        const bool validating = held_out > 0 || x_validation != nullptr;
        if (validating) {
            for (auto& entry : log_names("val_")) {
                epoch_logs.push_back(std::move(entry));
            }
        }
        auto state = training_state_for(o, rows.training.size(), params, buffers, steps);
        std::optional<model_architecture> architecture;
        if constexpr (requires { architecture_of(model_); }) {
            architecture = architecture_of(model_);
            state.architecture = &*architecture;
        }
        // Where training starts: initial_epoch, or where a backup left off.
        backup_point at{o.initial_epoch};
        history result;
        const bool backing_up = !o.backup.path.empty();
        std::vector<detail::same_everywhere> fingerprint;
        std::optional<saved_state> resumed;
        auto streams = collect_random_streams(model_);
        if (backing_up) {
            steps.local([&] {
                require_backup_options<Callbacks...>(o);
                fingerprint = backup_fingerprint(x, y, x_validation, y_validation, o);
                if (o.backup.resume) {
                    resumed =
                        read_backup(o.backup.path, fingerprint, steps.size(), sizeof...(Callbacks),
                                    params, buffers, state.architecture);
                }
                if (resumed) {
                    at = restore_training(*resumed, o, state, result, streams, steps.rank());
                }
            });
            require_same_start(steps, resumed.has_value(), at, o.backup.path);
        }
        progress_bar bar(std::cout, o.verbose == verbosity::bar     ? progress_style::bar
                                    : o.verbose == verbosity::lines ? progress_style::lines
                                                                    : progress_style::automatic);
        const bool show = o.verbose != verbosity::silent && steps.rank() == 0;
        // Callbacks run on every process and see the same figures; then the processes agree
        // on stop_training and the learning rate (callbacks that write files check state.rank).
        auto for_each_callback = [&](auto&& call, bool check_replicas = false) {
            steps.local([&] {
                if (show) {
                    call(bar);
                }
                (call(callbacks), ...);
            });
            steps.agree(state, check_replicas);
        };

        // One process's part of a step: forward, loss; then backward, its gradient scaled. Each
        // thread that runs groups of the part (below) has its model and its buffers.
        struct part_buffers {
            input_type x;
            Y y;
            output_type gradient;
            std::vector<value_type> weights;
            detail::gradient_sum<value_type> summed;
        };
        std::deque<part_buffers> scratch(1);
        Y y_all;
        output_type all_outputs;
        const auto forward = [&](Model& model, part_buffers& b, std::span<const std::size_t> part) {
            gather_rows(x, part, b.x);
            gather_rows(y, part, b.y);
            const double weight = detail::gather_weights(weights, part, b.weights);
            const auto& out = model.forward(b.x, mode::training);
            const auto loss = static_cast<double>(
                batch_loss(out, b.y, std::span<const value_type>(b.weights), &b.gradient));
            if (o.check_finite) {
                terminate_on_nan::check(loss, state.epoch, state.batch);
            }
            return detail::step_part<output_type>{&out, loss, weight};
        };
        const auto backward = [&](Model& model, part_buffers& b, value_type share) {
            if (share != value_type(1)) {
                for (auto& g : b.gradient) {
                    g *= share;
                }
            }
            model.backward(b.x, b.gradient);
        };
        // A part's forward and backward: whole, or as the model's training groups (see
        // sequential::training_group), each group's gradient scaled by its weight over the
        // total's, the groups' parameter gradients added, their outputs gathered for metrics.
        // On several threads each takes a run of the groups on a copy of the model of its own
        // (detail::step_replicas), drawing what the groups draw on one thread.
        output_type part_outputs;
        std::vector<value_type> part_weights;
        std::vector<double> group_losses;
        detail::step_replicas<Model> replicas;
        const auto part = [&](std::span<const std::size_t> some,
                              std::optional<double> total) -> detail::step_part<output_type> {
            const std::size_t group = training_group(x, some.size());
            if (group == 0) {
                const auto whole = forward(model_, scratch[0], some);
                backward(model_, scratch[0],
                         total ? static_cast<value_type>(*total > 0 ? whole.weight / *total : 0.0)
                               : value_type(1));
                return whole;
            }
            const double weight = detail::gather_weights(weights, some, part_weights);
            const double of = total ? *total : weight;
            const std::size_t groups = some.size() / group;
            resize_to(part_outputs, x, some.size());
            group_losses.resize(groups);
            // Part p's groups [from, to) of its groups [begin, end), on its model, their
            // gradients added into its parameters'.
            const auto run = [&](std::size_t p, std::size_t from, std::size_t to, std::size_t begin,
                                 std::size_t end) {
                Model& model = replicas.model(model_, p);
                const auto own = replicas.parameters(std::span(params), p);
                if (from == begin) {
                    replicas.sync(std::span<const parameter_view<value_type>>(params), p);
                }
                for (std::size_t g = from; g < to; ++g) {
                    const auto one = forward(model, scratch[p], some.subspan(g * group, group));
                    backward(model, scratch[p],
                             static_cast<value_type>(of > 0 ? one.weight / of : 0.0));
                    if (end - begin > 1) {
                        if (g + 1 < end) {
                            scratch[p].summed.keep(own, g == begin);
                        } else {
                            scratch[p].summed.finish(own);
                        }
                    }
                    const std::size_t each = one.out->size() / group;
                    std::copy_n(one.out->data(), group * each,
                                part_outputs.data() + g * group * each);
                    group_losses[g] = one.loss * one.weight;
                }
            };
            if constexpr (!detail::step_replicas<Model>::possible) {
                run(0, 0, groups, 0, groups);
            } else if (const detail::partition split(groups, 1, replicas.threads(groups));
                       split.parts == 1) {
                run(0, 0, groups, 0, groups);
            } else {
                scratch.resize(std::max(scratch.size(), split.parts));
                // Part 0's groups already run: its first alone when what a group draws is
                // still to be counted.
                std::size_t done = 0;
                bool at_once = replicas.prepare(model_, streams, split, group);
                if (!at_once && replicas.counting()) { // as inside part 0: the same sums
                    const detail::single_threaded_blas blas;
                    const detail::loops_in_turn in_turn;
                    replicas.before_count(streams);
                    run(0, 0, 1, 0, split.begin(1));
                    replicas.after_count(streams, group);
                    done = 1;
                    at_once = replicas.placed(streams, split, group, done);
                }
                if (at_once) {
                    detail::parallel_for(split,
                                         [&](std::size_t from, std::size_t to, std::size_t p) {
                                             run(p, p == 0 ? from + done : from, to, from, to);
                                         });
                } else { // the same parts and sums, in turn on this thread
                    const detail::single_threaded_blas blas;
                    const detail::loops_in_turn in_turn;
                    for (std::size_t p = 0; p < split.parts; ++p) {
                        replicas.follow(streams, p);
                        const std::size_t begin = split.begin(p), end = split.begin(p + 1);
                        run(p, p == 0 ? begin + done : begin, end, begin, end);
                    }
                }
                replicas.finish(std::span(params), streams, split);
            }
            double loss = 0;
            for (const double l : group_losses) {
                loss += l;
            }
            return {&part_outputs, weight > 0 ? loss / weight : 0.0, weight};
        };
        const auto metrics = [&](const output_type& out, std::span<const std::size_t> batch) {
            if (batch.size() == scratch[0].y.shape()[0]) { // this process's part was the batch
                update_metrics(out, scratch[0].y);
            } else {
                gather_rows(y, batch, y_all);
                update_metrics(out, y_all);
            }
        };
        const auto outputs = [&](std::size_t n) -> output_type& {
            resize_to(all_outputs, x, n);
            return all_outputs;
        };

        std::vector<std::size_t> order;
        validation_buffers<Y> validation;
        state.logs = std::span<const log_entry>(train_logs);
        // A backup's stop_training (an early stop before the crash) holds from the start, so
        // the callbacks' on_train_begin must not see it reset.
        const bool stopped = state.stop_training;
        for_each_callback([&](auto& c) { detail::call_on_train_begin(c, state); });
        if (resumed) { // after on_train_begin, which resets what the callbacks watch
            steps.local([&] { restore_callbacks(*resumed, callbacks...); });
            state.stop_training = stopped;
        }
        for (std::size_t epoch = at.epoch; epoch < o.epochs && !state.stop_training; ++epoch) {
            state.epoch = epoch;
            state.batch = 0;
            detail::epoch_order(rows.training, order, o.seed, epoch, o.shuffle);
            const detail::batches batches(order, o.batch_size);
            // Resumed mid-epoch, the metrics and callbacks are where the backup left them.
            const bool midway = epoch == at.epoch && at.batch > 0;
            double loss_sum = midway ? at.loss_sum : 0.0;
            double seen = midway ? at.seen : 0.0;
            for (auto& entry : train_logs) {
                entry.value = 0;
            }
            if (midway) {
                if (show) {
                    detail::call_on_epoch_begin(bar, state);
                }
            } else {
                reset_metrics();
                for_each_callback([&](auto& c) { detail::call_on_epoch_begin(c, state); });
            }
            for (std::size_t b = midway ? at.batch : 0; b < batches.count() && !state.stop_training;
                 ++b) {
                state.batch = b;
                steps.local([&] { set_learning_rate(state.learning_rate); });
                const auto [loss, weight] = steps.train_batch(batches[b], weights, part, metrics,
                                                              outputs, std::span(params));
                state.batch_loss = loss;
                optimizer_.step(std::span<parameter_view<value_type>>(params));
                loss_sum += loss * weight; // the epoch's loss so far: the weighted mean
                seen += weight;
                train_logs[0].value = seen > 0 ? loss_sum / seen : 0.0;
                read_metrics(train_logs, 1);
                for_each_callback([&](auto& c) { detail::call_on_batch_end(c, state); });
                const std::size_t every = o.backup.every_batches;
                if (backing_up && every > 0 && (b + 1) % every == 0 && b + 1 < batches.count() &&
                    !state.stop_training) {
                    save_backup(o.backup.path, fingerprint, {epoch, b + 1, loss_sum, seen}, state,
                                result, streams, steps, callbacks...);
                }
            }
            std::copy(train_logs.begin(), train_logs.end(), epoch_logs.begin());
            // Batch norm's running statistics: rank 0's on every process (DDP's rule).
            steps.broadcast_buffers(std::span(buffers));
            steps.local([&] {
                if (validating) {
                    validate(x, y, x_validation, y_validation, rows.validation, o, validation,
                             epoch_logs, train_logs.size());
                }
                state.logs = std::span<const log_entry>(epoch_logs);
                result.append(epoch, epoch_logs);
            });
            for_each_callback([&](auto& c) { detail::call_on_epoch_end(c, state); }, true);
            if (backing_up) {
                save_backup(o.backup.path, fingerprint, {epoch + 1}, state, result, streams, steps,
                            callbacks...);
            }
        }
        for_each_callback([&](auto& c) { detail::call_on_train_end(c, state); });
        set_learning_rate(state.learning_rate);
        if (backing_up && !o.backup.keep && steps.rank() == 0) {
            std::error_code ignored; // a backup left behind costs a fresh start, not data
            std::filesystem::remove(o.backup.path, ignored);
        }
        return result;
    }

    /// Where a backup leaves training: the next batch to run, and the epoch's loss so far.
    struct backup_point {
        std::size_t epoch = 0; ///< The epoch to run.
        std::size_t batch = 0; ///< Its first batch to run (0: the epoch starts afresh).
        double loss_sum = 0;   ///< The weighted sum of its losses before that batch.
        double seen = 0;       ///< Their weight.
    };

    /// On a process group, that every process resumed from the same point (or none did): a
    /// backup each process reads from a directory it does not share would part them.
    static void require_same_start(detail::data_parallel<value_type>& steps, bool resumed,
                                   const backup_point& at, const std::filesystem::path& path) {
        if (!steps.active()) {
            return;
        }
        steps.agree();
        const auto where = [&](bool r, const std::string& s) {
            return r ? "resumes from its backup at " + s
                     : "finds no backup '" + path.string() + "'";
        };
        const std::string mine =
            resumed ? "epoch " + std::to_string(at.epoch) + ", batch " + std::to_string(at.batch)
                    : std::string();
        const auto all = steps.gather(mine);
        for (std::size_t r = 1; r < all.size(); ++r) {
            if (all[r] != all[0]) {
                detail::throw_everywhere(detail::error_kind::config,
                                         "fit: the processes start from different points: rank 0 " +
                                             where(!all[0].empty(), all[0]) + ", rank " +
                                             std::to_string(r) + " " +
                                             where(!all[r].empty(), all[r]) +
                                             " (every process must see the same backup file)",
                                         r, all.size());
            }
        }
    }

    /// What a backup file says it is, so that no other .npz is read as one.
    static constexpr std::string_view backup_format = "xtnn fit backup 1";

    /// Whether a callback saves its state but cannot load it back.
    template <class C>
    static constexpr bool saves_only = requires(const C& c, saved_state& s) {
        c.save_state(s);
    }
    &&!detail::saves_state<std::remove_const_t<C>>;

    /// fit's checks of its backup options: with backups mid-epoch, every metric must save its
    /// state; a callback that saves its state must also load it.
    template <class... Callbacks>
    void require_backup_options(const fit_options& o) const {
        if (o.backup.every_batches > 0) {
            std::apply(
                [&](const auto&... m) {
                    (
                        [&](const auto& one) {
                            if constexpr (!detail::saves_state<
                                              std::remove_cvref_t<decltype(one)>>) {
                                throw config_error(
                                    "fit: backup.every_batches needs every metric to save its "
                                    "state, but '" +
                                    one.name() +
                                    "' has no save_state(saved_state&) const and "
                                    "load_state(const saved_state&) (back up at the ends of "
                                    "epochs only: every_batches = 0)");
                            }
                        }(m),
                        ...);
                },
                metrics_);
        }
        static_assert(((saves_only<std::remove_reference_t<Callbacks>> == false) && ...),
                      "xtnn: fit: a callback with save_state(saved_state&) const must also have "
                      "load_state(const saved_state&), so that a backup restores what it saved");
    }

    /// What a backup must have been made with to be resumed: the data, and the options that
    /// choose the batches (not `epochs` or `initial_epoch`).
    template <class Y, class XV, class YV>
    static std::vector<detail::same_everywhere> backup_fingerprint(const input_type& x, const Y& y,
                                                                   const XV* xv, const YV* yv,
                                                                   const fit_options& o) {
        auto v = replica_fingerprint(x, y, xv, yv, o);
        std::erase_if(
            v, [](const auto& s) { return s.what == "epochs" || s.what == "initial_epoch"; });
        return v;
    }

    /// Reads the backup at `path` if there is one, checks that this fit can resume from it (its
    /// format, processes, callbacks, data and options, then the model's architecture, names
    /// and shapes) and loads its parameters and buffers into the model.
    /// @throws config_error naming what differs; io_error for a damaged file.
    static std::optional<saved_state>
    read_backup(const std::filesystem::path& path,
                const std::vector<detail::same_everywhere>& fingerprint, std::size_t processes,
                std::size_t callbacks, std::vector<parameter_view<value_type>>& params,
                std::vector<buffer_view<value_type>>& buffers,
                const model_architecture* architecture) {
        std::error_code error;
        if (!std::filesystem::exists(path, error)) {
            if (error) {
                throw io_error("fit: cannot tell whether the backup '" + path.string() +
                               "' exists: " + error.message());
            }
            return std::nullopt;
        }
        const std::string where = "fit: the backup '" + path.string() + "'";
        auto s = detail::read_backup_state(path);
        std::string format;
        if (!s.contains("format") || (s.get("format", format), format != backup_format)) {
            throw io_error(where + " is not one of fit's backups (an .npz without its record); "
                                   "move it away or choose another backup.path");
        }
        std::uint8_t little = 0;
        s.get("little_endian", little);
        if ((little == 1) != (std::endian::native == std::endian::little)) {
            throw io_error(where + " was made on a machine of the other byte order");
        }
        const auto differs = [&](const std::string& what, const std::string& saved,
                                 const std::string& now) {
            return config_error(
                where + " does not match this fit in " + what +
                (saved.empty() ? std::string(" (their contents differ)")
                               : " (the backup's " + saved + ", this fit's " + now + ")") +
                ": resume with the same data, options and model, or delete the backup to train "
                "afresh");
        };
        std::size_t saved_processes = 0;
        std::size_t saved_callbacks = 0;
        s.get("processes", saved_processes);
        s.get("callbacks", saved_callbacks);
        if (saved_processes != processes) {
            throw differs("processes", std::to_string(saved_processes), std::to_string(processes));
        }
        if (saved_callbacks != callbacks) {
            throw differs("callbacks", std::to_string(saved_callbacks), std::to_string(callbacks));
        }
        for (const auto& f : fingerprint) {
            std::uint64_t saved = 0;
            s.get("fingerprint/" + f.what, saved);
            if (saved != f.value) {
                throw differs(f.what, f.readable ? std::to_string(saved) : "",
                              std::to_string(f.value));
            }
        }
        if (architecture != nullptr) {
            // Compared as the lines fit wrote, not by parsing the file's record: nlohmann's
            // parser in every program that fits took 3 s of compile time.
            std::string saved;
            if (s.contains("model")) {
                s.get("model", saved);
            }
            if (const auto lines = detail::first_different_line(saved, architecture->lines())) {
                throw differs("the model", lines->first, lines->second);
            }
        }
        detail::read_backup_model(path, std::span<const parameter_view<value_type>>(params),
                                  std::span<const buffer_view<value_type>>(buffers), s);
        return s;
    }

    /// Restores the optimizer, the history, the random engines (this process's), the
    /// learning rate, stop_training and, mid-epoch, the metrics from backup `s`; returns where
    /// training goes on.
    /// @throws io_error for a value that is missing or does not fit.
    backup_point restore_training(const saved_state& s, const fit_options& o,
                                  training_state<value_type>& state, history& result,
                                  std::vector<std::pair<std::string, random_engine*>>& streams,
                                  std::size_t rank) {
        const std::string where = "fit: the backup '" + o.backup.path.string() + "'";
        backup_point at;
        bool finished = false;
        s.get("epoch", at.epoch);
        s.get("batch", at.batch);
        s.get("loss_sum", at.loss_sum);
        s.get("seen", at.seen);
        s.get("stop_training", finished);
        s.get("learning_rate", state.learning_rate);
        if (at.batch >= state.batches && at.batch > 0) {
            throw io_error(where + " resumes at batch " + std::to_string(at.batch) + " of " +
                           std::to_string(state.batches));
        }
        std::string text;
        s.get("streams/" + std::to_string(rank), text);
        std::size_t k = 0;
        for (std::size_t begin = 0; !text.empty() && begin <= text.size(); ++k) {
            const auto end = std::min(text.find('\n', begin), text.size());
            if (k >= streams.size() ||
                !streams[k].second->restore(std::string_view(text).substr(begin, end - begin))) {
                throw io_error(where + ": the random engines do not fit the model's " +
                               std::to_string(streams.size()));
            }
            begin = end + 1;
        }
        if (k != streams.size()) {
            throw io_error(where + ": " + std::to_string(k) + " random engines for the model's " +
                           std::to_string(streams.size()));
        }
        optimizer_.load_state(s.part("optimizer"));
        result.load_state(s.part("history"));
        if (at.batch > 0) {
            std::size_t i = 0;
            std::apply([&](auto&... m) { (load_part(m, s, "metric/" + std::to_string(i++)), ...); },
                       metrics_);
        }
        state.stop_training = finished;
        return at;
    }

    /// Restores every callback that keeps state from backup `s`.
    template <class... Callbacks>
    static void restore_callbacks(const saved_state& s, Callbacks&... callbacks) {
        std::size_t i = 0;
        (load_part(callbacks, s, "callback/" + std::to_string(i++)), ...);
    }

    template <class Part>
    static void load_part(Part& part, const saved_state& s, const std::string& key) {
        if constexpr (detail::saves_state<Part>) {
            part.load_state(s.part(key));
        }
    }
    template <class Part>
    static void save_part(const Part& part, saved_state& s, const std::string& key) {
        if constexpr (detail::saves_state<Part>) {
            saved_state mine;
            part.save_state(mine);
            s.put(key, mine);
        }
    }

    /// Backs up the training at `at` to `path` (rank 0 writes; the others give it their random
    /// engines, so every process calls it).
    template <class... Callbacks>
    void save_backup(const std::filesystem::path& path,
                     const std::vector<detail::same_everywhere>& fingerprint, backup_point at,
                     const training_state<value_type>& state, const history& result,
                     const std::vector<std::pair<std::string, random_engine*>>& streams,
                     detail::data_parallel<value_type>& steps, Callbacks&... callbacks) {
        std::string mine;
        for (const auto& [name, engine] : streams) {
            if (!mine.empty()) {
                mine += '\n';
            }
            mine += engine->state();
        }
        const auto everyone = steps.gather(mine);
        steps.local([&] {
            if (steps.rank() != 0) {
                return;
            }
            saved_state s;
            s.put("format", std::string(backup_format));
            s.put("little_endian", std::uint8_t{std::endian::native == std::endian::little});
            s.put("processes", steps.size());
            s.put("callbacks", sizeof...(Callbacks));
            if (state.architecture != nullptr) {
                s.put("model", state.architecture->lines());
            }
            for (const auto& f : fingerprint) {
                s.put("fingerprint/" + f.what, f.value);
            }
            s.put("epoch", at.epoch);
            s.put("batch", at.batch);
            s.put("loss_sum", at.loss_sum);
            s.put("seen", at.seen);
            s.put("stop_training", state.stop_training);
            s.put("learning_rate", state.learning_rate);
            for (std::size_t r = 0; r < everyone.size(); ++r) {
                s.put("streams/" + std::to_string(r), everyone[r]);
            }
            save_part(optimizer_, s, "optimizer");
            save_part(result, s, "history");
            if (at.batch > 0) {
                std::size_t i = 0;
                std::apply(
                    [&](const auto&... m) {
                        (save_part(m, s, "metric/" + std::to_string(i++)), ...);
                    },
                    metrics_);
            }
            std::size_t i = 0;
            (save_part(callbacks, s, "callback/" + std::to_string(i++)), ...);
            detail::write_backup(
                path, std::span<const parameter_view<value_type>>(state.parameters),
                std::span<const buffer_view<value_type>>(state.buffers), state.architecture, s);
        });
    }

    /// The training_state callbacks see, before the first epoch.
    training_state<value_type>
    training_state_for(const fit_options& o, std::size_t samples,
                       std::vector<parameter_view<value_type>>& params,
                       std::vector<buffer_view<value_type>>& buffers,
                       const detail::data_parallel<value_type>& steps) const {
        training_state<value_type> state;
        state.epochs = o.epochs;
        state.samples = samples;
        // without overflow for any batch_size (SIZE_MAX: one batch of every sample)
        state.batches = samples / o.batch_size + (samples % o.batch_size != 0 ? 1 : 0);
        state.parameters = std::span<parameter_view<value_type>>(params);
        state.buffers = std::span<buffer_view<value_type>>(buffers);
        state.rank = steps.rank();
        state.processes = steps.size();
        state.learning_rate = optimizer_.learning_rate();
        return state;
    }

    /// What validation reuses from epoch to epoch.
    template <class Y>
    struct validation_buffers {
        std::vector<log_entry> values;
        std::vector<std::size_t> every_row; ///< 0 … n - 1 of validation data
        Y targets;
    };

    /// The validation figures of an epoch, into `logs` from position `first`.
    template <class Y, class XV, class YV>
    void validate(const input_type& x, const Y& y, const XV* x_validation, const YV* y_validation,
                  const std::vector<std::size_t>& validation_rows, const fit_options& o,
                  validation_buffers<Y>& v, std::vector<log_entry>& logs, std::size_t first) {
        static const std::vector<value_type> unweighted;
        if (v.values.empty()) {
            v.values = log_names("val_");
        }
        if (x_validation != nullptr) {
            if (v.every_row.size() != x_validation->shape()[0]) {
                v.every_row = detail::all_rows(x_validation->shape()[0]);
            }
            measure(*x_validation, *y_validation, unweighted,
                    std::span<const std::size_t>(v.every_row), 256, v.values, v.targets,
                    o.check_finite, "fit (validation data)");
        } else {
            measure(x, y, unweighted, std::span<const std::size_t>(validation_rows), 256, v.values,
                    v.targets, o.check_finite, "fit (validation split)");
        }
        std::copy(v.values.begin(), v.values.end(),
                  logs.begin() + static_cast<std::ptrdiff_t>(first));
    }

    /// Sets the optimizer's learning rate if a callback changed it.
    void set_learning_rate(double rate) {
        if (rate != optimizer_.learning_rate()) {
            optimizer_.set_learning_rate(rate);
        }
    }

    /// Samples per training group of a batch of `rows` rows of x (0: whole batches; see
    /// sequential::training_group).
    std::size_t training_group(const input_type& x, std::size_t rows) const {
        if constexpr (requires { model_.training_group(x.shape()); }) {
            auto in = x.shape();
            in[0] = rows;
            return model_.training_group(in);
        } else {
            return 0;
        }
    }

    /// Sizes `out` for the outputs of `rows` samples like x's (allocating only for another
    /// shape): a part's, or the whole batch's on a process group.
    void resize_to(output_type& out, const input_type& x, std::size_t rows) const {
        auto in = shape<Model::input_rank>{};
        std::copy(x.shape().begin(), x.shape().end(), in.begin());
        in[0] = rows;
        const auto s = model_.output_shape(in);
        if (!std::equal(s.begin(), s.end(), out.shape().begin(), out.shape().end())) {
            out.resize(s);
        }
    }

    /// What every process of a data-parallel fit must have the same: the data's sizes and
    /// contents (hashed), the options that choose the batches.
    template <class Y, class XV, class YV>
    static std::vector<detail::same_everywhere> replica_fingerprint(const input_type& x, const Y& y,
                                                                    const XV* xv, const YV* yv,
                                                                    const fit_options& o) {
        using detail::error_kind;
        const auto bytes_of = [](const auto& t) {
            return std::as_bytes(std::span(t.data(), t.size()));
        };
        const auto shape_hash = [](const auto& shape) {
            return detail::hash_bytes(std::as_bytes(std::span(shape.data(), shape.size())));
        };
        const auto bits = [](double v) {
            std::uint64_t u;
            std::memcpy(&u, &v, sizeof u);
            return u;
        };
        // Each sample's hash (of its rows in `a` and, if given, `b`): to name the first sample
        // in which two processes' data differ.
        const auto per_sample = [](const auto& a, const auto* b) {
            return [&a, b] {
                const std::size_t n = a.shape()[0];
                std::vector<std::uint64_t> h(n);
                const auto row = [n](const auto& t, std::size_t i) {
                    const std::size_t width = n == 0 ? 0 : t.size() / n;
                    return std::as_bytes(std::span(t.data() + i * width, width));
                };
                for (std::size_t i = 0; i < n; ++i) {
                    h[i] = detail::hash_bytes(row(a, i));
                    if (b != nullptr) {
                        h[i] = detail::hash_bytes(row(*b, i), h[i]);
                    }
                }
                return h;
            };
        };
        std::vector<detail::same_everywhere> v{
            {"training samples", x.shape()[0]},
            {"the shape of the inputs (x)", shape_hash(x.shape()), false},
            {"the shape of the targets (y)", shape_hash(y.shape()), false},
            {"the training inputs (x)", detail::hash_bytes(bytes_of(x)), false, error_kind::config,
             per_sample(x, static_cast<const input_type*>(nullptr))},
            {"the training targets (y)", detail::hash_bytes(bytes_of(y)), false, error_kind::config,
             per_sample(y, static_cast<const Y*>(nullptr))},
            {"validation samples", xv != nullptr ? xv->shape()[0] : 0},
            {"the validation data",
             xv != nullptr ? detail::hash_bytes(bytes_of(*yv), detail::hash_bytes(bytes_of(*xv)))
                           : 0,
             false, error_kind::config,
             xv != nullptr ? std::function<std::vector<std::uint64_t>()>(per_sample(*xv, yv))
                           : std::function<std::vector<std::uint64_t>()>{}},
            {"epochs", o.epochs, true, error_kind::config},
            {"batch_size", o.batch_size, true, error_kind::config},
            {"shuffle", o.shuffle ? 1U : 0U, true, error_kind::config},
            {"seed", o.seed, true, error_kind::config},
            {"validation_split", bits(o.validation_split), false, error_kind::config, {}, true},
            {"initial_epoch", o.initial_epoch, true, error_kind::config},
            {"check_finite", o.check_finite ? 1U : 0U, true, error_kind::config},
            {"class_weight",
             detail::hash_bytes(std::as_bytes(std::span(o.class_weight)), o.class_weight.size()),
             false, error_kind::config},
            {"sample_weight",
             detail::hash_bytes(std::as_bytes(std::span(o.sample_weight)), o.sample_weight.size()),
             false, error_kind::config},
        };
        return v;
    }

    /// The model, a line per layer (when it describes itself) and per parameter, for the
    /// message that names where two processes' models differ.
    std::string model_lines(const std::vector<parameter_view<value_type>>& params) const {
        std::string text;
        if constexpr (requires { architecture_of(model_); }) {
            text += architecture_of(model_).lines();
        }
        for (const auto& p : params) {
            text += p.name + " " + format_shape(p.shape) + "\n";
        }
        text += "optimizer learning rate " + detail::format_number(optimizer_.learning_rate());
        return text;
    }

    Model& model_;
    Loss loss_;
    Optimizer optimizer_;
    std::tuple<Metrics...> metrics_;
    input_type eval_x_;
    std::vector<value_type> eval_weights_;
};

#undef XTNN_DETAIL_REQUIRE_DATA

} // namespace xtnn
