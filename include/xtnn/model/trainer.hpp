/// @file
/// trainer: a model compiled with its loss, optimizer and metrics; fit, evaluate, predict.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/gather_rows.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/metrics/metric.hpp>
#include <xtnn/model/callbacks/callback.hpp>
#include <xtnn/model/callbacks/progress_bar.hpp>
#include <xtnn/model/callbacks/terminate_on_nan.hpp>
#include <xtnn/model/data_parallel.hpp>
#include <xtnn/model/history.hpp>
#include <xtnn/model/predict.hpp>
#include <xtnn/model/sample_weights.hpp>

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
    /// Throw numeric_error (naming the epoch and batch) when a batch's loss is NaN or
    /// infinite, before that batch changes the weights.
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
/// Determinism: the same seed, data and model initialization give bit-identical weights on
/// the same machine and BLAS thread count (the shuffles, the split and dropout are seeded, and
/// xtnn's own loops run in a fixed order). Across BLAS thread counts the results agree only
/// closely: OpenBLAS splits a product differently with 2 threads than with 1, which changes
/// the rounding of some sums in the last bits.
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
template <class Model, class Loss, class Optimizer, class... Metrics>
class trainer {
  public:
    using value_type = typename Model::value_type;   ///< The scalar type.
    using input_type = typename Model::input_type;   ///< Model inputs.
    using output_type = typename Model::output_type; ///< Model outputs.

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
    template <class X, class Y, class... Callbacks>
    history fit(const X& x, const Y& y, const fit_options& options = {}, Callbacks&&... callbacks) {
        check_training_data<X, Y>();
        explain_targets(y);
        if constexpr (tensor_of<X, value_type, Model::input_rank> && takes_targets<Y>) {
            return run_fit<Y, input_type, Y>(x, y, nullptr, nullptr, options, callbacks...);
        } else {
            return {};
        }
    }

    /// Trains as above, validating on `validation` at the end of every epoch.
    template <class X, class Y, class XV, class YV, class... Callbacks>
    history fit(const X& x, const Y& y, const validation_data<XV, YV>& validation,
                const fit_options& options = {}, Callbacks&&... callbacks) {
        check_training_data<X, Y>();
        explain_targets(y);
        static_assert(std::same_as<XV, X> && std::same_as<YV, Y>,
                      "xtnn: fit: validation_data must have the training data's tensor types "
                      "(the same ranks and scalar types as x and y)");
        if constexpr (tensor_of<X, value_type, Model::input_rank> && takes_targets<Y> &&
                      std::same_as<XV, X> && std::same_as<YV, Y>) {
            detail::require_option(options.validation_split == 0.0, "fit", "validation_split",
                                   "0 when validation data is given", options.validation_split);
            return run_fit<Y, XV, YV>(x, y, &validation.x, &validation.y, options, callbacks...);
        } else {
            return {};
        }
    }

    /// The mean loss and the metrics of the model on `x`, `y`, in inference mode.
    ///
    /// With `check_finite` (the default), NaN or infinite outputs or losses (from NaN in the
    /// input or the weights) are an error, as in fit, rather than figures computed from them.
    /// With class or sample weights, the loss is their weighted mean (as in fit); the metrics
    /// count every sample once.
    /// @throws shape_error if x and y differ in samples or there are none; numeric_error naming
    /// the sample whose output is not finite; std::out_of_range for a class label out of range;
    /// config_error for impossible options or weights.
    template <class X, class Y>
    evaluation evaluate(const X& x, const Y& y, const evaluate_options& options = {}) {
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: evaluate: the model takes", "input", input, X, value_type,
                                   Model::input_rank);
        static_assert(any_tensor<Y>, "xtnn: evaluate: the targets must be an xtnn::tensor "
                                     "(class indices (batch), one-hot rows or regression "
                                     "targets)");
        static_assert(!any_tensor<Y> || takes_targets<Y> || explained<Y>,
                      "xtnn: evaluate: the loss or a metric does not take these targets for the "
                      "model's outputs (softmax_cross_entropy and accuracy take integer class "
                      "indices (batch) or one-hot rows (batch, classes); regression losses take "
                      "targets of the outputs' shape and scalar type)");
        explain_targets(y);
        if constexpr (tensor_of<X, value_type, Model::input_rank> && takes_targets<Y>) {
            detail::require_option(options.batch_size > 0, "evaluate", "batch_size", "> 0", 0.0);
            check_samples(x, y, "evaluate");
            if (x.shape()[0] == 0) {
                throw shape_error("evaluate: no samples to evaluate; got x " +
                                  format_shape(x.shape()));
            }
            check_labels(x, y, "evaluate");
            const auto weights =
                weights_of(x, y, options.class_weight, options.sample_weight, "evaluate");
            std::vector<std::size_t> rows(x.shape()[0]);
            std::iota(rows.begin(), rows.end(), 0);
            std::vector<log_entry> values = log_names("");
            Y y_batch;
            measure(x, y, weights, rows, options.batch_size, values, y_batch, options.check_finite,
                    "evaluate");
            return evaluation{std::move(values)};
        } else {
            return {};
        }
    }

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

    /// Gathers the weights of `rows` into `batch` (nothing when `weights` is empty) and returns
    /// their sum (the number of rows when unweighted).
    static double gather_weights(const std::vector<value_type>& weights,
                                 std::span<const std::size_t> rows,
                                 std::vector<value_type>& batch) {
        if (weights.empty()) {
            batch.clear();
            return static_cast<double>(rows.size());
        }
        batch.resize(rows.size());
        double sum = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            batch[i] = weights[rows[i]];
            sum += static_cast<double>(batch[i]);
        }
        return sum;
    }

    /// fit()'s compile-time checks of its data: a sentence for each kind of mistake.
    template <class X, class Y>
    static consteval void check_training_data() {
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: fit: the model takes", "input", input, X, value_type,
                                   Model::input_rank);
        static_assert(any_tensor<Y>, "xtnn: fit: the targets must be an xtnn::tensor (class "
                                     "indices (batch), one-hot rows or regression targets)");
        static_assert(!any_tensor<Y> || takes_targets<Y> || explained<Y>,
                      "xtnn: fit: the loss or a metric does not take these targets for the "
                      "model's outputs (softmax_cross_entropy and accuracy take integer class "
                      "indices (batch) or one-hot rows (batch, classes); regression losses take "
                      "targets of the outputs' shape and scalar type)");
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

    /// Whether the loss and every metric take targets Y for the model's outputs.
    template <class Y>
    static constexpr bool takes_targets = any_tensor<Y>&& xtnn::loss<Loss, output_type, Y> &&
                                          (metric<Metrics, output_type, Y> && ...);

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
        for (std::size_t first = 0; first < rows.size(); first += batch_size) {
            const auto part = rows.subspan(first, std::min(batch_size, rows.size() - first));
            gather_rows(x, part, eval_x_);
            gather_rows(y, part, y_batch);
            const double part_weight = gather_weights(weights, part, eval_weights_);
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

    template <class Y, class XV, class YV, class... Callbacks>
    history run_fit(const input_type& x, const Y& y, const XV* x_validation, const YV* y_validation,
                    const fit_options& o, Callbacks&... callbacks) {
        // On a process group every check runs on every process, and one failing stops them all.
        detail::data_parallel<value_type> group(o.distributed);
        const std::size_t n = x.shape()[0];
        std::size_t held_out = 0;
        std::vector<value_type> weights;
        group.local([&] {
            detail::require_option(o.batch_size > 0, "fit", "batch_size", "> 0", 0.0);
            detail::require_option(o.validation_split >= 0.0 && o.validation_split < 1.0, "fit",
                                   "validation_split", "in [0, 1)", o.validation_split);
            check_samples(x, y, "fit");
            if (x_validation != nullptr) {
                check_samples(*x_validation, *y_validation, "fit (validation data)");
            }
            held_out =
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
            weights = weights_of(x, y, o.class_weight, o.sample_weight, "fit");
            if (x_validation != nullptr) {
                if (x_validation->shape()[0] == 0) {
                    throw shape_error("fit: the validation data has no samples; got x " +
                                      format_shape(x_validation->shape()));
                }
                check_labels(*x_validation, *y_validation, "fit (validation data)");
            }
        });
        auto params = model_.parameters();
        auto buffers = model_.buffers();
        if (group.active()) {
            group.require_same(replica_fingerprint(x, y, x_validation, y_validation, o),
                               model_lines(params));
            group.broadcast_model(std::span<parameter_view<value_type>>(params),
                                  std::span<buffer_view<value_type>>(buffers));
        }

        // Seeded split: a random subset for validation, the rest for training.
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::vector<std::size_t> validation_rows;
        if (held_out > 0) {
            random_engine split_rng(derive_seed(o.seed, 0));
            split_rng.shuffle(std::span<std::size_t>(order));
            validation_rows.assign(order.end() - static_cast<std::ptrdiff_t>(held_out),
                                   order.end());
            order.resize(n - held_out);
            std::sort(order.begin(), order.end());
            std::sort(validation_rows.begin(), validation_rows.end());
        }
        const std::vector<std::size_t> training_rows = order;
        const bool validating = held_out > 0 || x_validation != nullptr;
        std::vector<std::size_t> external_rows;
        if (x_validation != nullptr) {
            external_rows.resize(x_validation->shape()[0]);
            std::iota(external_rows.begin(), external_rows.end(), 0);
        }

        std::vector<log_entry> train_logs = log_names("");
        std::vector<log_entry> epoch_logs = train_logs;
        if (validating) {
            for (auto& entry : log_names("val_")) {
                epoch_logs.push_back(std::move(entry));
            }
        }
        std::vector<log_entry> validation_values = log_names("val_");

        training_state<value_type> state;
        state.epochs = o.epochs;
        state.samples = order.size();
        // Without overflow for any batch_size (SIZE_MAX means one batch of every sample).
        state.batches = order.size() / o.batch_size + (order.size() % o.batch_size != 0 ? 1 : 0);
        state.parameters = std::span<parameter_view<value_type>>(params);
        state.buffers = std::span<buffer_view<value_type>>(buffers);
        state.rank = group.rank();
        state.processes = group.size();
        std::optional<model_architecture> architecture;
        if constexpr (requires { architecture_of(model_); }) {
            architecture = architecture_of(model_);
            state.architecture = &*architecture;
        }
        state.learning_rate = optimizer_.learning_rate();

        progress_bar bar(std::cout, o.verbose == verbosity::bar     ? progress_style::bar
                                    : o.verbose == verbosity::lines ? progress_style::lines
                                                                    : progress_style::automatic);
        // On a process group only rank 0 shows progress; every process runs the callbacks,
        // which see the same figures (callbacks that write files check state.rank).
        const bool show = o.verbose != verbosity::silent && group.rank() == 0;
        auto for_each_callback = [&](auto&& call) {
            group.local([&] {
                if (show) {
                    call(bar);
                }
                (call(callbacks), ...);
            });
        };

        history result;
        Y y_batch, y_eval, y_global;
        input_type x_batch;
        output_type gradient, global_out;
        std::vector<value_type> batch_weights;
        batch_weights.reserve(weights.empty() ? 0 : std::min(o.batch_size, order.size()));
        const std::vector<value_type> unweighted;
        state.logs = std::span<const log_entry>(train_logs);
        for_each_callback([&](auto& c) { detail::call_on_train_begin(c, state); });
        group.agree(state);
        for (std::size_t epoch = o.initial_epoch; epoch < o.epochs && !state.stop_training;
             ++epoch) {
            state.epoch = epoch;
            state.batch = 0;
            if (o.shuffle) {
                // Each epoch's order depends on (seed, epoch) only, so resuming with
                // initial_epoch replays the same batches as an uninterrupted run.
                std::copy(training_rows.begin(), training_rows.end(), order.begin());
                random_engine shuffle_rng(derive_seed(o.seed, epoch + 1));
                shuffle_rng.shuffle(std::span<std::size_t>(order));
            }
            reset_metrics();
            for (auto& entry : train_logs) {
                entry.value = 0;
            }
            state.logs = std::span<const log_entry>(train_logs);
            for_each_callback([&](auto& c) { detail::call_on_epoch_begin(c, state); });
            group.agree(state);
            double loss_sum = 0;
            double seen = 0;
            for (std::size_t b = 0; b < state.batches && !state.stop_training; ++b) {
                state.batch = b;
                const std::size_t first = b * o.batch_size;
                const auto rows = std::span<const std::size_t>(order).subspan(
                    first, std::min(o.batch_size, order.size() - first));
                // On a process group, this process's contiguous share of the batch.
                const auto [shard_first, shard_size] = group.shard(rows.size());
                const auto shard = rows.subspan(shard_first, shard_size);
                const output_type* out = nullptr;
                double loss = 0;
                double rows_weight = 0;
                double shard_weight = 0;
                if (group.active()) {
                    rows_weight = gather_weights(weights, rows, global_weights_);
                }
                group.local([&] {
                    if (state.learning_rate != optimizer_.learning_rate()) {
                        optimizer_.set_learning_rate(state.learning_rate);
                    }
                    gather_rows(x, shard, x_batch);
                    gather_rows(y, shard, y_batch);
                    shard_weight = gather_weights(weights, shard, batch_weights);
                    if (shard.empty()) {
                        for (auto& p : params) {
                            std::fill(p.gradient.begin(), p.gradient.end(), value_type(0));
                        }
                        return;
                    }
                    out = &model_.forward(x_batch, mode::training);
                    loss = static_cast<double>(batch_loss(
                        *out, y_batch, std::span<const value_type>(batch_weights), &gradient));
                    if (o.check_finite) {
                        terminate_on_nan::check(loss, epoch, b);
                    }
                    if (group.active()) {
                        // The loss is the shard's mean: its share of the batch's is its weight
                        // over the batch's (backward is linear in the output gradient).
                        const auto share = static_cast<value_type>(
                            rows_weight > 0 ? shard_weight / rows_weight : 0.0);
                        for (auto& g : gradient) {
                            g *= share;
                        }
                    }
                    model_.backward(x_batch, gradient);
                });
                if (group.active()) {
                    resize_global(global_out, x, rows.size());
                    loss = group.exchange_step(out, loss, shard_weight, global_out);
                    gather_rows(y, rows, y_global);
                    update_metrics(global_out, y_global);
                    group.sum_gradients(std::span<parameter_view<value_type>>(params));
                } else {
                    rows_weight = shard_weight;
                    update_metrics(*out, y_batch);
                }
                state.batch_loss = loss;
                optimizer_.step(std::span<parameter_view<value_type>>(params));
                // The epoch's loss so far: the weighted mean over its samples.
                loss_sum += loss * rows_weight;
                seen += rows_weight;
                train_logs[0].value = seen > 0 ? loss_sum / seen : 0.0;
                read_metrics(train_logs, 1);
                for_each_callback([&](auto& c) { detail::call_on_batch_end(c, state); });
                group.agree(state);
            }
            std::copy(train_logs.begin(), train_logs.end(), epoch_logs.begin());
            // Batch norm's running statistics: rank 0's everywhere (as PyTorch's
            // DistributedDataParallel, which broadcasts them before every forward pass; in
            // training they do not change a step, so once an epoch gives the same model).
            group.broadcast_buffers(std::span<buffer_view<value_type>>(buffers));
            group.local([&] {
                if (validating) {
                    if (x_validation != nullptr) {
                        measure(*x_validation, *y_validation, unweighted,
                                std::span<const std::size_t>(external_rows), 256, validation_values,
                                y_eval, o.check_finite, "fit (validation data)");
                    } else {
                        measure(x, y, unweighted, std::span<const std::size_t>(validation_rows),
                                256, validation_values, y_eval, o.check_finite,
                                "fit (validation split)");
                    }
                    std::copy(validation_values.begin(), validation_values.end(),
                              epoch_logs.begin() + static_cast<std::ptrdiff_t>(train_logs.size()));
                }
                state.logs = std::span<const log_entry>(epoch_logs);
                result.append(epoch, epoch_logs);
            });
            for_each_callback([&](auto& c) { detail::call_on_epoch_end(c, state); });
            group.agree(state, true);
        }
        for_each_callback([&](auto& c) { detail::call_on_train_end(c, state); });
        group.agree(state);
        if (state.learning_rate != optimizer_.learning_rate()) {
            optimizer_.set_learning_rate(state.learning_rate);
        }
        return result;
    }

    /// Sizes the whole batch's outputs (on a process group) for `rows` samples like x's.
    void resize_global(output_type& global, const input_type& x, std::size_t rows) const {
        auto in = shape<Model::input_rank>{};
        std::copy(x.shape().begin(), x.shape().end(), in.begin());
        in[0] = rows;
        global.resize(model_.output_shape(in));
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
        std::vector<detail::same_everywhere> v{
            {"training samples", x.shape()[0]},
            {"the shape of the inputs (x)", shape_hash(x.shape()), false},
            {"the shape of the targets (y)", shape_hash(y.shape()), false},
            {"the training inputs (x)", detail::hash_bytes(bytes_of(x)), false, error_kind::config},
            {"the training targets (y)", detail::hash_bytes(bytes_of(y)), false,
             error_kind::config},
            {"validation samples", xv != nullptr ? xv->shape()[0] : 0},
            {"the validation data",
             xv != nullptr ? detail::hash_bytes(bytes_of(*yv), detail::hash_bytes(bytes_of(*xv)))
                           : 0,
             false, error_kind::config},
            {"epochs", o.epochs, true, error_kind::config},
            {"batch_size", o.batch_size, true, error_kind::config},
            {"shuffle", o.shuffle ? 1U : 0U, true, error_kind::config},
            {"seed", o.seed, true, error_kind::config},
            {"validation_split", bits(o.validation_split), false, error_kind::config},
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
            const auto a = architecture_of(model_);
            text += a.dtype + "\n";
            for (std::size_t i = 0; i < a.model.layers.size(); ++i) {
                text += "layer " + std::to_string(i) + ": " + a.model.layers[i].to_string() + "\n";
            }
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
    std::vector<value_type> global_weights_;
};

} // namespace xtnn
