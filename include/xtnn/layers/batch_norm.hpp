/// @file
/// Batch normalization over the channels of (batch, channels) or (batch, channels, height,
/// width) data, as PyTorch's BatchNorm1d and BatchNorm2d.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

template <std::floating_point T, std::size_t N>
class batch_norm_layer;

namespace detail {
/// What a description of batch norm records: every option of its spec `S`.
template <class S>
constexpr auto batch_norm_fields() {
    return std::tuple{field("num_features", &S::num_features), field("eps", &S::eps),
                      field("momentum", &S::momentum), field("affine", &S::affine),
                      field("track_running_stats", &S::track_running_stats)};
}
} // namespace detail

/// Batch norm over (batch, channels) or (batch, channels, length), PyTorch's BatchNorm1d:
/// `xtnn::batch_norm1d{128}` after a dense layer of 128 outputs.
/// @ingroup layers
struct batch_norm1d {
    /// The layer this spec becomes after a layer with scalar `T` and rank `N` (2 or 3; another
    /// rank fails to compile with a sentence).
    template <std::floating_point T, std::size_t N>
    using bound_layer = batch_norm_layer<T, N>;
    static constexpr std::string_view name = "batch_norm1d"; ///< The name in summaries.
    std::size_t num_features = 0;    ///< C: the channels (features) normalized one by one.
    double eps = 1e-5;               ///< Added to the variance before its square root.
    double momentum = 0.1;           ///< The running estimates' update weight, in [0, 1].
    bool affine = true;              ///< Learn a per-channel scale (weight) and shift (bias).
    bool track_running_stats = true; ///< Keep running estimates for inference.
    /// What a description records: every option.
    static constexpr auto fields() { return detail::batch_norm_fields<batch_norm1d>(); }
};

/// Batch norm over (batch, channels, height, width), PyTorch's BatchNorm2d:
/// `xtnn::batch_norm2d{32}` after a convolution with 32 output channels.
/// @ingroup layers
struct batch_norm2d {
    /// The layer this spec becomes after a layer with scalar `T` and rank `N` (4; another rank
    /// fails to compile with a sentence).
    template <std::floating_point T, std::size_t N>
    using bound_layer = batch_norm_layer<T, N>;
    static constexpr std::string_view name = "batch_norm2d"; ///< The name in summaries.
    std::size_t num_features = 0;    ///< C: the channels normalized one by one.
    double eps = 1e-5;               ///< Added to the variance before its square root.
    double momentum = 0.1;           ///< The running estimates' update weight, in [0, 1].
    bool affine = true;              ///< Learn a per-channel scale (weight) and shift (bias).
    bool track_running_stats = true; ///< Keep running estimates for inference.
    /// What a description records: every option.
    static constexpr auto fields() { return detail::batch_norm_fields<batch_norm2d>(); }
};

/// Batch normalization, exactly as PyTorch's BatchNorm1d / BatchNorm2d.
///
/// Each channel c is normalized over every other axis (the batch and, for images, height and
/// width: m values). Training: `y = γ (x - μ) / √(σ² + ε) + β` with the batch's mean μ and
/// biased variance σ², and the running estimates move by `momentum`:
/// `running_mean ← (1 - momentum) running_mean + momentum μ`, likewise `running_var` with the
/// unbiased variance `σ² m / (m - 1)`; `num_batches_tracked` counts the batches. Inference uses
/// the running estimates (or, without `track_running_stats`, the batch's statistics).
/// Backward in training mode differentiates through the batch statistics.
///
/// Parameters: weight γ (C, ones) and bias β (C, zeros) with `affine`. Buffers with
/// `track_running_stats`: running_mean (C, zeros), running_var (C, ones) and
/// num_batches_tracked (an int64 scalar): PyTorch's state dict, so weight files load into
/// `torch.nn.BatchNorm1d/2d`.
/// @tparam T the scalar type. @tparam N the rank: 2 or 3 (batch_norm1d), 4 (batch_norm2d).
/// @throws config_error for 0 features, a negative or non-finite eps, a momentum outside
/// [0, 1].
/// @code
/// xtnn::sequential model{xtnn::dense{784, 128}, xtnn::batch_norm1d{128}, xtnn::relu{},
///                        xtnn::dense{128, 10}};
/// @endcode
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 2>
class batch_norm_layer : public layer_base<batch_norm_layer<T, N>, T, N, N> {
    static_assert(N >= 2 && N <= 4, "xtnn: batch norm takes rank 2, 3 or 4");

  public:
    /// The name in summaries and messages.
    static constexpr std::string_view name = N == 4 ? "batch_norm2d" : "batch_norm1d";
    /// What it is built from: batch_norm2d for images, else batch_norm1d.
    using options_type = std::conditional_t<N == 4, batch_norm2d, batch_norm1d>;

    /// A layer with the options of a batch_norm1d or batch_norm2d spec.
    template <class Spec>
    requires std::same_as<Spec, batch_norm1d> || std::same_as<Spec, batch_norm2d>
    explicit batch_norm_layer(const Spec& spec)
        : channels_(spec.num_features), eps_(spec.eps), momentum_(spec.momentum),
          affine_(spec.affine), tracking_(spec.track_running_stats) {
        // Here rather than in the spec's bound_layer, which concepts may name for any rank.
        if constexpr (std::same_as<Spec, batch_norm1d>) {
            static_assert(N == 2 || N == 3,
                          "xtnn: batch_norm1d takes rank 2 (batch, features) or 3 (batch, "
                          "channels, length), and the layer before gives another rank: for "
                          "images (rank 4) use batch_norm2d");
        } else {
            static_assert(N == 4, "xtnn: batch_norm2d takes rank 4 (batch, channels, height, "
                                  "width), and the layer before gives another rank: after a dense "
                                  "layer or a flatten use batch_norm1d");
        }
        detail::require_option(spec.num_features > 0, std::string(name), "num_features", "> 0",
                               0.0);
        detail::require_option(std::isfinite(spec.eps) && spec.eps >= 0.0, std::string(name), "eps",
                               "finite and >= 0", spec.eps);
        detail::require_option(spec.momentum >= 0.0 && spec.momentum <= 1.0, std::string(name),
                               "momentum", "in [0, 1]", spec.momentum);
        const shape<1> c{channels_};
        weight_.resize(c);
        bias_.resize(c);
        weight_grad_.resize(c);
        bias_grad_.resize(c);
        running_mean_.resize(c);
        running_var_.resize(c);
        mean_.resize(c);
        inv_std_.resize(c);
        count_.resize(shape<1>{1});
        variance_.resize(channels_);
        reset();
    }

    /// With running statistics, inference normalizes each sample by them alone; without,
    /// by the batch's (see xtnn::independent_samples).
    bool independent_samples() const { return tracking_; }

    /// The number of channels C.
    std::size_t num_features() const { return channels_; }
    /// Its options: `batch_norm2d(num_features=…, eps=…, momentum=…, affine=…,
    /// track_running_stats=…)` in a description.
    options_type options() const {
        return {.num_features = channels_,
                .eps = eps_,
                .momentum = momentum_,
                .affine = affine_,
                .track_running_stats = tracking_};
    }
    /// γ, (C).
    tensor<T, 1>& weight() { return weight_; }
    /// β, (C).
    tensor<T, 1>& bias() { return bias_; }
    /// The running mean, (C).
    tensor<T, 1>& running_mean() { return running_mean_; }
    /// The running (unbiased) variance, (C).
    tensor<T, 1>& running_var() { return running_var_; }
    /// The number of training batches seen.
    std::int64_t num_batches_tracked() const { return count_(0); }

    /// Its inference as a per-channel affine map, y = x·scale[c] + shift[c], with the running
    /// statistics (see xtnn::states_channel_affine: sequential folds it into the output pass
    /// of a convolution before it). False, writing nothing, without running statistics.
    /// @throws shape_error unless `scale` and `shift` hold num_features() values each.
    bool inference_affine(std::span<T> scale, std::span<T> shift) const {
        if (scale.size() != channels_ || shift.size() != channels_) {
            throw shape_error(std::string(name) +
                              "::inference_affine: " + std::to_string(channels_) +
                              " channels, got spans of " + std::to_string(scale.size()) + " and " +
                              std::to_string(shift.size()));
        }
        if (!tracking_) {
            return false;
        }
        for (std::size_t c = 0; c < channels_; ++c) {
            const T inv_std = T(1) / std::sqrt(running_var_(c) + static_cast<T>(eps_));
            scale[c] = inv_std * (affine_ ? weight_(c) : T(1));
            shift[c] = (affine_ ? bias_(c) : T(0)) - running_mean_(c) * scale[c];
        }
        return true;
    }

    /// PyTorch's reset: γ = 1, β = 0, running mean 0, running variance 1, no batches (called
    /// by sequential::initialize; batch norm draws nothing at random).
    void initialize(random_engine&) { reset(); }

    /// The output has the input's shape.
    /// @throws shape_error if the channel axis is not num_features().
    shape<N> output_shape(const shape<N>& input) const {
        if (input[1] != channels_) {
            shape<N> expected = input;
            expected[1] = channels_;
            throw shape_error(
                detail::mismatch_message(std::string(name) + "::forward", "input channels mismatch",
                                         format_shape(expected), format_shape(input)));
        }
        return input;
    }

    /// "weight" and "bias" with `affine`, else none.
    std::vector<parameter_view<T>> parameters() {
        if (!affine_) {
            return {};
        }
        return {{"weight", span_of(weight_), span_of(weight_grad_), {channels_}},
                {"bias", span_of(bias_), span_of(bias_grad_), {channels_}}};
    }

    /// "running_mean", "running_var" and "num_batches_tracked" with `track_running_stats`.
    std::vector<buffer_view<T>> buffers() {
        if (!tracking_) {
            return {};
        }
        return {{"running_mean", span_of(running_mean_), {channels_}},
                {"running_var", span_of(running_var_), {channels_}},
                {"num_batches_tracked", std::span<std::int64_t>(count_.data(), 1), {}}};
    }

  private:
    friend layer_access;

    /// Normalizes each channel: with the batch's statistics in training (updating the running
    /// estimates), with the running estimates in inference.
    /// @throws shape_error in training when a channel has a single value (as PyTorch).
    void compute_forward(const tensor<T, N>& x, tensor<T, N>& y, mode m) {
        const std::size_t batch = x.shape()[0];
        const std::size_t inner = x.size() / std::max<std::size_t>(batch * channels_, 1);
        const std::size_t per_channel = batch * inner;
        batch_statistics_ = m == mode::training || !tracking_;
        if (batch_statistics_) {
            if (m == mode::training && per_channel <= 1) {
                throw shape_error(std::string(name) +
                                  "::forward: training needs more than one value per channel; "
                                  "got input " +
                                  format_shape(x.shape()));
            }
            if (per_channel == 0) {
                return;
            }
            measure(x, batch, inner);
            if (m == mode::training && tracking_) {
                update_running(per_channel);
            }
        } else {
            for (std::size_t c = 0; c < channels_; ++c) {
                mean_(c) = running_mean_(c);
                inv_std_(c) = T(1) / std::sqrt(running_var_(c) + static_cast<T>(eps_));
            }
        }
        const T* in = x.data();
        T* out = y.data();
        for (std::size_t b = 0; b < batch; ++b) {
            for (std::size_t c = 0; c < channels_; ++c) {
                const T scale = inv_std_(c) * (affine_ ? weight_(c) : T(1));
                const T shift = (affine_ ? bias_(c) : T(0)) - mean_(c) * scale;
                const std::size_t at = (b * channels_ + c) * inner;
                for (std::size_t s = 0; s < inner; ++s) {
                    out[at + s] = in[at + s] * scale + shift;
                }
            }
        }
    }

    /// Writes dγ, dβ and, when `dx` is not null, dx: through the batch statistics after a
    /// training forward, through the running estimates after an inference forward.
    void compute_backward(const tensor<T, N>& x, const tensor<T, N>&, const tensor<T, N>& dy,
                          tensor<T, N>* dx) {
        const std::size_t batch = x.shape()[0];
        const std::size_t inner = x.size() / std::max<std::size_t>(batch * channels_, 1);
        const double m = static_cast<double>(batch * inner);
        const T* in = x.data();
        const T* g = dy.data();
        for (std::size_t c = 0; c < channels_; ++c) {
            // Σ dy and Σ dy x̂ over the channel.
            double sum_dy = 0, sum_dy_xhat = 0;
            const T mean = mean_(c), inv_std = inv_std_(c);
            for (std::size_t b = 0; b < batch; ++b) {
                const std::size_t at = (b * channels_ + c) * inner;
                const T* run = in + at;
                const T* grad = g + at;
                sum_dy += detail::lane_sum<T>(inner, [grad](std::size_t s) { return grad[s]; });
                const T dy_centred = detail::lane_sum<T>(
                    inner, [run, grad, mean](std::size_t s) { return grad[s] * (run[s] - mean); });
                sum_dy_xhat += static_cast<double>(dy_centred) * inv_std;
            }
            weight_grad_(c) = affine_ ? static_cast<T>(sum_dy_xhat) : T(0);
            bias_grad_(c) = affine_ ? static_cast<T>(sum_dy) : T(0);
            if (dx == nullptr) {
                continue;
            }
            const T gamma = affine_ ? weight_(c) : T(1);
            T* d = dx->data();
            if (batch_statistics_) {
                // dx = γ/σ (dy - mean(dy) - x̂ mean(dy x̂))
                const T k = gamma * inv_std;
                const T mean_dy = static_cast<T>(m > 0 ? sum_dy / m : 0);
                const T mean_dy_xhat = static_cast<T>(m > 0 ? sum_dy_xhat / m : 0);
                for (std::size_t b = 0; b < batch; ++b) {
                    const std::size_t at = (b * channels_ + c) * inner;
                    for (std::size_t s = 0; s < inner; ++s) {
                        const T xhat = (in[at + s] - mean) * inv_std;
                        d[at + s] = k * (g[at + s] - mean_dy - xhat * mean_dy_xhat);
                    }
                }
            } else {
                const T k = gamma * inv_std;
                for (std::size_t b = 0; b < batch; ++b) {
                    const std::size_t at = (b * channels_ + c) * inner;
                    for (std::size_t s = 0; s < inner; ++s) {
                        d[at + s] = k * g[at + s];
                    }
                }
            }
        }
    }

    template <class U>
    static std::span<U> span_of(tensor<U, 1>& t) {
        return std::span<U>(t.data(), t.size());
    }

    void reset() {
        weight_.fill(T(1));
        bias_.fill(T(0));
        weight_grad_.fill(T(0));
        bias_grad_.fill(T(0));
        running_mean_.fill(T(0));
        running_var_.fill(T(1));
        count_.fill(0);
    }

    // The batch's mean and 1/√(σ² + ε) per channel, two passes (mean, then centred squares);
    // each contiguous run is summed in T, the runs in double.
    void measure(const tensor<T, N>& x, std::size_t batch, std::size_t inner) {
        const T* in = x.data();
        const double m = static_cast<double>(batch * inner);
        for (std::size_t c = 0; c < channels_; ++c) {
            double sum = 0;
            for (std::size_t b = 0; b < batch; ++b) {
                const T* run = in + (b * channels_ + c) * inner;
                sum += detail::lane_sum<T>(inner, [run](std::size_t s) { return run[s]; });
            }
            const T mean = static_cast<T>(sum / m);
            double squares = 0;
            for (std::size_t b = 0; b < batch; ++b) {
                const T* run = in + (b * channels_ + c) * inner;
                squares += detail::lane_sum<T>(inner, [run, mean](std::size_t s) {
                    const T d = run[s] - mean;
                    return d * d;
                });
            }
            mean_(c) = mean;
            variance_[c] = squares / m;
            inv_std_(c) = static_cast<T>(1.0 / std::sqrt(variance_[c] + eps_));
        }
    }

    void update_running(std::size_t per_channel) {
        const double m = static_cast<double>(per_channel);
        for (std::size_t c = 0; c < channels_; ++c) {
            const double unbiased = variance_[c] * m / (m - 1);
            running_mean_(c) = static_cast<T>((1 - momentum_) * running_mean_(c) +
                                              momentum_ * static_cast<double>(mean_(c)));
            running_var_(c) =
                static_cast<T>((1 - momentum_) * running_var_(c) + momentum_ * unbiased);
        }
        ++count_(0);
    }

    std::size_t channels_;
    double eps_;
    double momentum_;
    bool affine_;
    bool tracking_;
    tensor<T, 1> weight_, bias_, weight_grad_, bias_grad_;
    tensor<T, 1> running_mean_, running_var_;
    tensor<std::int64_t, 1> count_; // one value; shape () in weight files, as PyTorch's
    tensor<T, 1> mean_, inv_std_;   // of the last forward, for backward
    std::vector<double> variance_;  // the last batch's biased variance
    bool batch_statistics_ = false; // whether the last forward normalized by the batch
};

} // namespace xtnn
