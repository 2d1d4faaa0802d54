/// @file
/// The fully connected layer, `y = x Wᵀ + b`, with PyTorch's parameter layout.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <xtnn/core/blas.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/init/initializer.hpp>

namespace xtnn {

/// @defgroup layers Layers
/// Types that satisfy the xtnn::layer concept, and the specs sequential turns into layers.

/// Options of a dense layer.
/// @ingroup layers
struct dense_options {
    std::size_t in = 0;                         ///< Input features (> 0).
    std::size_t out = 0;                        ///< Output features (> 0).
    bool bias = true;                           ///< Whether the layer adds a learned bias.
    initializer weight_init = glorot_uniform{}; ///< Initial weights (Keras' default).
    initializer bias_init = zeros{};            ///< Initial bias.
    std::uint64_t seed = 0;                     ///< Seed of the initial weights.

    /// What a description records: in, out, bias (initializers and seed choose the weights,
    /// which a weight file holds).
    static constexpr auto fields() {
        return std::tuple{field("in", &dense_options::in), field("out", &dense_options::out),
                          field("bias", &dense_options::bias)};
    }
};

/// A fully connected layer: every output is a weighted sum of every input, plus a bias.
///
/// Forward: `y = x Wᵀ + b`. Backward, given `dy = dL/dy`:
/// `dW = dyᵀ x`, `db = Σ_batch dy`, `dx = dy W`.
///
/// Shapes: x `(batch, in)`, W `(out, in)` (PyTorch's `nn.Linear` layout, so weights move to
/// and from PyTorch unchanged), b `(out)`, y `(batch, out)`. Parameters are named "weight"
/// and "bias". The three products are single BLAS calls with transpose flags into buffers
/// the layer owns; nothing is allocated after the first batch.
///
/// @tparam T float (default) or double.
/// @throws config_error from the constructor if `in` or `out` is 0.
/// @throws shape_error from forward/backward if x is not `(batch, in)`.
///
/// @code
/// xtnn::dense fc{784, 128};                           // dense<float>, glorot_uniform, bias
/// xtnn::dense<double> g({.in = 4, .out = 2, .bias = false, .weight_init = xtnn::he_normal{}});
/// auto y = xtnn::apply(fc, x);                        // (batch, 128)
/// @endcode
/// @ingroup layers
template <std::floating_point T = float>
class dense : public layer_base<dense<T>, T, 2, 2> {
  public:
    static constexpr std::string_view name = "dense"; ///< The layer's name in summaries.
    static constexpr bool trains_by_samples = true;   ///< See xtnn::trains_by_samples.
    using options_type = dense_options;               ///< What it is built from.

    /// A layer with `in` inputs and `out` outputs, a bias and the default initializers.
    dense(std::size_t in, std::size_t out) : dense(dense_options{.in = in, .out = out}) {}

    /// A layer configured by `options`; the parameters are initialized from `options.seed`.
    explicit dense(dense_options options) : options_(std::move(options)) {
        detail::require_option(options_.in > 0, "dense", "in", "> 0",
                               static_cast<double>(options_.in));
        detail::require_option(options_.out > 0, "dense", "out", "> 0",
                               static_cast<double>(options_.out));
        weight_ = tensor<T, 2>(shape<2>{options_.out, options_.in});
        weight_grad_ = xt::zeros<T>(weight_.shape());
        const std::size_t bias_size = options_.bias ? options_.out : 0;
        bias_ = tensor<T, 1>(shape<1>{bias_size});
        bias_grad_ = xt::zeros<T>(bias_.shape());
        random_engine rng(options_.seed);
        initialize(rng);
    }

    /// The options the layer was built with.
    const dense_options& options() const { return options_; }
    /// Input features.
    std::size_t in_features() const { return options_.in; }
    /// Output features.
    std::size_t out_features() const { return options_.out; }
    /// Whether the layer has a bias.
    bool has_bias() const { return options_.bias; }

    /// The weights, `(out, in)`.
    tensor<T, 2>& weight() { return weight_; }
    /// The weights, `(out, in)`.
    const tensor<T, 2>& weight() const { return weight_; }
    /// The bias, `(out)`; empty when the layer has none.
    tensor<T, 1>& bias() { return bias_; }
    /// The bias, `(out)`; empty when the layer has none.
    const tensor<T, 1>& bias() const { return bias_; }
    /// dL/dW from the last backward.
    const tensor<T, 2>& weight_gradient() const { return weight_grad_; }
    /// dL/db from the last backward.
    const tensor<T, 1>& bias_gradient() const { return bias_grad_; }

    /// Draws new initial parameters from `rng` with the configured initializers.
    void initialize(random_engine& rng) {
        fill(options_.weight_init, std::span<T>(weight_.data(), weight_.size()),
             fans{options_.in, options_.out}, rng);
        fill(options_.bias_init, std::span<T>(bias_.data(), bias_.size()),
             fans{options_.in, options_.out}, rng);
    }

    /// `(batch, in)` -> `(batch, out)`.
    /// @throws shape_error if the feature extent is not `in`.
    shape<2> output_shape(const shape<2>& input) const {
        if (input[1] != options_.in) {
            throw shape_error(detail::mismatch_message(
                "dense::forward", "input shape mismatch",
                "(batch, " + std::to_string(options_.in) + ")", format_shape(input)));
        }
        return {input[0], options_.out};
    }

    /// "weight" `(out, in)` and, with a bias, "bias" `(out)`.
    std::vector<parameter_view<T>> parameters() {
        std::vector<parameter_view<T>> views;
        views.push_back({"weight",
                         std::span<T>(weight_.data(), weight_.size()),
                         std::span<T>(weight_grad_.data(), weight_grad_.size()),
                         {options_.out, options_.in}});
        if (options_.bias) {
            views.push_back({"bias",
                             std::span<T>(bias_.data(), bias_.size()),
                             std::span<T>(bias_grad_.data(), bias_grad_.size()),
                             {options_.out}});
        }
        return views;
    }

  private:
    friend layer_access;

    // In training the products split over threads by W's rows (x·Wᵀ by columns, dyᵀ·x by
    // rows), as the optimizers then update W (detail::owned_partition): each thread keeps its
    // rows of W, of their gradient and of the optimizer's state in its own core's cache
    // through a step. Inference splits by the longer side (a large batch's rows: each part
    // then runs whole tiles).

    /// `y = x Wᵀ + b`.
    void compute_forward(const tensor<T, 2>& x, tensor<T, 2>& y, mode m) const {
        const product_split split =
            m == mode::training ? product_split::columns : product_split::automatic;
        if (!options_.bias) {
            gemm(x, weight_, y, {.transpose_b = true, .split = split});
            return;
        }
        // The bias goes in first and the product accumulates onto it: one pass over y fewer
        // than clearing y, multiplying, then adding the bias.
        const std::size_t rows = y.shape()[0];
        const std::size_t cols = options_.out;
        T* out = y.data();
        for (std::size_t r = 0; r < rows; ++r) {
            std::copy_n(bias_.data(), cols, out + r * cols);
        }
        gemm(x, weight_, y, {.transpose_b = true, .beta = 1.0, .split = split});
    }

    /// Writes dW = dyᵀ x, db = Σ_batch dy and, if `dx` is not null, dx = dy W.
    void compute_backward(const tensor<T, 2>& x, const tensor<T, 2>&, const tensor<T, 2>& dy,
                          tensor<T, 2>* dx) {
        if (dx != nullptr) {
            gemm(dy, weight_, *dx);
        }
        gemm(dy, x, weight_grad_, {.transpose_a = true, .split = product_split::rows});
        if (options_.bias) {
            const std::size_t rows = dy.shape()[0];
            const std::size_t cols = options_.out;
            T* db = bias_grad_.data();
            const T* g = dy.data();
            std::fill(db, db + cols, T(0));
            for (std::size_t r = 0; r < rows; ++r) {
                const T* row = g + r * cols;
                for (std::size_t c = 0; c < cols; ++c) {
                    db[c] += row[c];
                }
            }
        }
    }

    dense_options options_;
    tensor<T, 2> weight_;
    tensor<T, 1> bias_;
    tensor<T, 2> weight_grad_;
    tensor<T, 1> bias_grad_;
};

} // namespace xtnn
