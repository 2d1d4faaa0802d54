/// @file
/// Inference: predict, predict_classes and predict_probabilities run a model on a batch or on
/// one sample, batch by batch, without a trainer.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn {

namespace detail {

/// The rank of one sample of a model's input, accepted by the single-sample forms of predict.
template <class Model>
inline constexpr std::size_t sample_rank =
    Model::input_rank >= 2 ? Model::input_rank - 1 : Model::input_rank;

/// Whether a model has the single-sample forms of predict: one sample without its batch axis
/// in, one output without it out.
template <class Model>
concept has_sample_form = Model::input_rank >= 2 && Model::output_rank >= 2;

/// One sample of a model's input: its input without the batch axis.
template <class Model>
using sample_type = tensor<typename Model::value_type, sample_rank<Model>>;

/// Whether predict takes X for this model: a batch of its input type or, where the model has
/// the single-sample forms, one sample.
template <class Model, class X>
concept predict_argument = std::same_as<X, typename Model::input_type> ||
    (has_sample_form<Model>&& std::same_as<X, sample_type<Model>>);

/// The buffer predict gathers batches into: the model's own where it keeps one (a
/// sequential's batch_buffer(), so that a warmed-up predict allocates only its result), else
/// `local`.
template <class Model>
typename Model::input_type& batch_buffer(Model& model, typename Model::input_type& local) {
    if constexpr (requires {
                      { model.batch_buffer() } -> std::same_as<typename Model::input_type&>;
                  }) {
        return model.batch_buffer();
    } else {
        return local;
    }
}

/// Batched predict into a new output tensor, `(samples, …)`: an input of one batch or less
/// runs as it is, a larger one batch by batch, each batch's rows copied into batch_buffer().
template <class Model>
typename Model::output_type predict_batches(Model& model, const typename Model::input_type& x,
                                            std::size_t batch_size) {
    require_option(batch_size > 0, "predict", "batch_size", "> 0", 0.0);
    const auto held = hold(model); // other threads' calls wait: the buffers are the model's
    const std::size_t n = x.shape()[0];
    typename Model::output_type out(model.output_shape(x.shape()));
    if (n == 0) {
        return out;
    }
    if (n <= batch_size) {
        const auto& y = model.forward(x, mode::inference);
        std::copy_n(y.data(), out.size(), out.data());
        return out;
    }
    const std::size_t in_row = x.size() / n, out_row = out.size() / n;
    typename Model::input_type local;
    auto& batch = batch_buffer(model, local);
    auto batch_shape = x.shape();
    for (std::size_t first = 0; first < n; first += batch_size) {
        const std::size_t rows = std::min(batch_size, n - first);
        batch_shape[0] = rows;
        if (!std::equal(batch_shape.begin(), batch_shape.end(), batch.shape().begin())) {
            batch.resize(batch_shape);
        }
        std::copy_n(x.data() + first * in_row, rows * in_row, batch.data());
        const auto& y = model.forward(batch, mode::inference);
        std::copy_n(y.data(), rows * out_row, out.data() + first * out_row);
    }
    return out;
}

/// One sample as a batch of one: `(features)` becomes `(1, features)`.
template <class Model, class X>
typename Model::input_type as_batch(const X& sample) {
    shape<Model::input_rank> s{};
    s[0] = 1;
    std::copy(sample.shape().begin(), sample.shape().end(), s.begin() + 1);
    typename Model::input_type batch(s);
    std::copy(sample.data(), sample.data() + sample.size(), batch.data());
    return batch;
}

/// The first row of a batch of outputs without its batch axis: `(1, classes)` -> `(classes)`.
template <class Output>
auto first_row(const Output& out) {
    constexpr std::size_t rank = rank_of<Output>;
    shape<rank - 1> s{};
    std::copy(out.shape().begin() + 1, out.shape().end(), s.begin());
    tensor<element_of<Output>, rank - 1> row(s);
    std::copy(out.data(), out.data() + row.size(), row.data());
    return row;
}

/// Throws numeric_error `where: the model's output for sample N is not finite …` when a row of
/// `out` holds NaN or infinity; row r is sample `samples[r]`, or r itself when `samples` is
/// empty. NaN or infinity comes from the input or the weights: whatever is read from such an
/// output (a class, an accuracy) would be silently wrong.
template <class Output>
void require_finite_outputs(const Output& out, std::span<const std::size_t> samples,
                            const char* where) {
    const std::size_t rows = out.shape()[0];
    const std::size_t row_size = rows == 0 ? 1 : out.size() / rows;
    const std::size_t i = first_not_finite(out.data(), out.size());
    if (i != out.size()) {
        const std::size_t r = i / row_size;
        throw numeric_error(std::string(where) + ": the model's output for sample " +
                            std::to_string(samples.empty() ? r : samples[r]) +
                            " is not finite (NaN or infinity in the input or the weights); "
                            "check_finite = false allows it");
    }
}

} // namespace detail

/// Runs `model` on `x` in inference mode, `batch_size` samples at a time, and returns all the
/// outputs, `(samples, …)`.
///
/// `x` is a batch of the model's input type, or one sample without the batch axis (e.g.
/// `(784)` for a model taking `(batch, 784)`, see the next overload). Any other rank, or
/// another scalar type, does not compile.
/// @throws config_error if batch_size is 0; shape_error if the model rejects x.
/// @code
/// auto logits = xtnn::predict(model, x_test);
/// @endcode
/// @ingroup model
template <class Model>
typename Model::output_type predict(Model& model, const typename Model::input_type& x,
                                    std::size_t batch_size = 256) {
    return detail::predict_batches(model, x, batch_size);
}

/// One sample without the batch axis in, its output without the batch axis out.
/// @ingroup model
template <detail::has_sample_form Model>
auto predict(Model& model, const detail::sample_type<Model>& x, std::size_t batch_size = 256) {
    return detail::first_row(predict(model, detail::as_batch<Model>(x), batch_size));
}

/// The predicted class of each row: the index of the largest output, `(samples)`.
///
/// With `check_finite` (the default), a NaN or infinite output (from NaN in the input or in
/// the weights) is an error rather than a class read from garbage.
/// @throws numeric_error naming the sample whose output is not finite.
/// @code
/// auto digits = xtnn::predict_classes(model, x_test);
/// @endcode
/// @ingroup model
template <class Model>
tensor<std::int64_t, 1> predict_classes(Model& model, const typename Model::input_type& x,
                                        std::size_t batch_size = 256, bool check_finite = true) {
    static_assert(Model::output_rank == 2, "xtnn: predict_classes needs (batch, classes) outputs");
    const auto scores = detail::predict_batches(model, x, batch_size);
    if (check_finite) {
        detail::require_finite_outputs(scores, {}, "predict_classes");
    }
    const std::size_t classes = scores.shape()[1];
    tensor<std::int64_t, 1> out(shape<1>{scores.shape()[0]});
    for (std::size_t r = 0; r < out.size(); ++r) {
        out(r) =
            classes == 0
                ? 0
                : static_cast<std::int64_t>(detail::argmax(scores.data() + r * classes, classes));
    }
    return out;
}

/// The class of one sample without the batch axis.
/// @ingroup model
template <detail::has_sample_form Model>
std::int64_t predict_classes(Model& model, const detail::sample_type<Model>& x,
                             std::size_t batch_size = 256, bool check_finite = true) {
    return predict_classes(model, detail::as_batch<Model>(x), batch_size, check_finite)(0);
}

/// The softmax of each row of the model's outputs (logits): class probabilities (NaN where the
/// outputs are NaN).
/// @code
/// auto probabilities = xtnn::predict_probabilities(model, x_test);   // rows sum to 1
/// @endcode
/// @ingroup model
template <class Model>
typename Model::output_type predict_probabilities(Model& model, const typename Model::input_type& x,
                                                  std::size_t batch_size = 256) {
    static_assert(Model::output_rank == 2,
                  "xtnn: predict_probabilities needs (batch, classes) outputs");
    auto scores = detail::predict_batches(model, x, batch_size);
    const std::size_t classes = scores.shape()[1];
    for (std::size_t r = 0; classes > 0 && r < scores.shape()[0]; ++r) {
        auto* row = scores.data() + r * classes;
        const auto [m, sum] = detail::shifted_exp_sum(row, classes, row);
        (void)m;
        for (std::size_t j = 0; j < classes; ++j) {
            row[j] /= sum;
        }
    }
    return scores;
}

/// The class probabilities of one sample without the batch axis.
/// @ingroup model
template <detail::has_sample_form Model>
auto predict_probabilities(Model& model, const detail::sample_type<Model>& x,
                           std::size_t batch_size = 256) {
    return detail::first_row(predict_probabilities(model, detail::as_batch<Model>(x), batch_size));
}

/// @cond XTNN_DETAIL
// Any other argument: xtensor would convert it implicitly (a tensor of another rank corrupts
// memory), so these exact matches win and name what the model takes.
#define XTNN_DETAIL_PREDICT_REJECTS(NAME)                                                          \
    template <class Model, class X, class... Options>                                              \
    requires(!detail::predict_argument<Model, X>) detail::rejected NAME(Model&, const X&,          \
                                                                        const Options&...) {       \
        XTNN_DETAIL_REQUIRE_TENSOR_OR("xtnn: " #NAME ": the model takes", "input", input, X,       \
                                      typename Model::value_type, Model::input_rank,               \
                                      detail::sample_rank<Model>);                                 \
        return {};                                                                                 \
    }
XTNN_DETAIL_PREDICT_REJECTS(predict)
XTNN_DETAIL_PREDICT_REJECTS(predict_classes)
XTNN_DETAIL_PREDICT_REJECTS(predict_probabilities)
#undef XTNN_DETAIL_PREDICT_REJECTS
/// @endcond

} // namespace xtnn
