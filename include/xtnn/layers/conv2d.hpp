/// @file
/// The 2-D convolution over NCHW images, with PyTorch's parameter layout and options.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/core/blas.hpp>
#include <xtnn/core/concepts.hpp>
#include <xtnn/core/cpu.hpp>
#include <xtnn/core/epilogue.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/detail/kernels.hpp>
#include <xtnn/init/fans.hpp>
#include <xtnn/init/initializer.hpp>
#include <xtnn/layers/extent2.hpp>

namespace xtnn {

/// How a conv2d computes: the same function either way, within float rounding.
/// @ingroup layers
enum class conv_algorithm {
    automatic, ///< direct where it applies and is faster (see conv2d), else unfold.
    unfold,    ///< im2col and BLAS products, always.
    direct,    ///< xtnn's direct kernels where they apply (float, AVX2 or AVX-512).
    /// Winograd where it applies (float, AVX2 or AVX-512, a 3 × 3 kernel, stride 1, dilation
    /// 1; the input gradient with padding up to 2), else as automatic; in training also the
    /// weight gradient. F(2 × 2, 3 × 3) on output planes of 3 × 3 to 36 positions, else
    /// F(4 × 4, 3 × 3) (conv2d::winograd_tile() says which ran). Within float rounding of the
    /// others (about 1e-6 of the outputs' scale; the weight gradient's, a sum over every tile,
    /// within about 1e-5), not the same bits.
    winograd,
};

/// Options of a conv2d layer (PyTorch's nn.Conv2d, without groups).
/// @ingroup layers
struct conv2d_options {
    std::size_t in_channels = 0;                ///< C of the input (> 0).
    std::size_t out_channels = 0;               ///< Filters, C of the output (> 0).
    extent2 kernel_size = 3;                    ///< (kh, kw), each > 0.
    extent2 stride = 1;                         ///< Steps between outputs, each > 0.
    padding2 padding = 0;                       ///< Zeros around the input.
    extent2 dilation = 1;                       ///< Spacing of the kernel's taps, each > 0.
    bool bias = true;                           ///< Whether each filter adds a learned bias.
    initializer weight_init = glorot_uniform{}; ///< Initial weights (Keras' default).
    initializer bias_init = zeros{};            ///< Initial bias.
    std::uint64_t seed = 0;                     ///< Seed of the initial weights.
    /// Values the unfolded input (im2col) may hold at once: the batch is processed in chunks of
    /// samples that fit (at least one sample, however large). 2^22 floats is 16 MiB.
    std::size_t workspace = std::size_t{1} << 22;
    /// The algorithm (not part of the description: it does not change the function).
    conv_algorithm algorithm = conv_algorithm::automatic;

    /// What a description records (initializers, seed and workspace do not change the
    /// function): `conv2d(in_channels=1, out_channels=32, kernel_size=(3, 3), stride=(1, 1),
    /// padding=(0, 0), dilation=(1, 1), bias=true)`, padding `same` when so.
    static constexpr auto fields() {
        using o = conv2d_options;
        return std::tuple{field("in_channels", &o::in_channels),
                          field("out_channels", &o::out_channels),
                          field("kernel_size", &o::kernel_size),
                          field("stride", &o::stride),
                          field("padding", &o::padding),
                          field("dilation", &o::dilation),
                          field("bias", &o::bias)};
    }
};

/// A 2-D convolution (cross-correlation, as in every framework) over NCHW images.
///
/// `y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] x[n, c, i·sh - pt + u·dh, j·sw - pl + v·dw]`,
/// with zeros outside the input. Output extents: `(H + pt + pb - dh (kh - 1) - 1) / sh + 1`,
/// likewise for the width.
///
/// Shapes: x `(batch, in_channels, H, W)`, weight `(out_channels, in_channels, kh, kw)` and
/// bias `(out_channels)`, PyTorch's layout and names ("weight", "bias"), so weight files move to
/// and from `torch.nn.Conv2d` unchanged. Initial weights: glorot_uniform with fans
/// `(in_channels·kh·kw, out_channels·kh·kw)`, zero bias, as Keras' Conv2D and xtnn's dense, so
/// that the Keras tutorial's convnet trains here as it does there (PyTorch's default draws from
/// U(±1/√fan_in) instead: `.weight_init = xtnn::lecun_uniform{}` is the nearest).
///
/// Speed: a float layer on a CPU with AVX2 or AVX-512 runs xtnn's direct kernels (any stride,
/// padding and dilation; docs/performance.md), except where another algorithm is faster:
/// Winograd for a 3 × 3 kernel of stride 1 with at least 16 channels and 32 filters, at most
/// 256 × 256 of them (forward, and in training the weight gradient and the input gradient;
/// conv_algorithm::winograd): F(2 × 2, 3 × 3) on output planes of 3 × 3 to 36 positions (a
/// ResNet's 4 × 4 planes), F(4 × 4, 3 × 3) on larger ones with enough positions; unfolding in
/// training, for samples with at most 16 output positions where Winograd does not apply (a
/// ResNet's 2 × 2 planes) or a 1 × 1 kernel. Unfolding (im2col)
/// takes a chunk of samples at a time, as many as fit in a buffer of `workspace` values the layer
/// keeps (by default 2^22: 120 samples for the Keras convnet's second layer, 288 taps × 121
/// positions each; chunks are balanced, so batch 128 is 2 chunks of 64), and multiplies the weights
/// by the whole chunk in one BLAS product (backward: the weight gradient, accumulated, and the
/// unfolded input gradient, folded back by col2im). A large batch or image needs a bounded buffer
/// (a ResNet stage at batch 128 would need 302 MB at once), backward reuses the forward's columns
/// when the batch is one chunk (and unfolds the others again), and nothing is allocated after the
/// first batch of a given shape.
/// @tparam T float (default) or double.
/// @throws config_error for a zero extent, 0 channels, "same" with a stride other than 1.
/// @code
/// xtnn::conv2d conv{1, 32, 3};                                   // 1 -> 32 channels, 3x3
/// xtnn::conv2d<float> c({.in_channels = 32, .out_channels = 64, .kernel_size = {3, 3},
///                        .padding = "same"});
/// @endcode
/// @ingroup layers
template <std::floating_point T = float>
class conv2d : public layer_base<conv2d<T>, T, 4, 4> {
  public:
    static constexpr std::string_view name = "conv2d"; ///< The name in summaries.
    using options_type = conv2d_options;               ///< What it is built from.
    static constexpr bool splits_batch = true;         ///< Over xtnn's threads (xtnn::num_threads).
    static constexpr bool independent_samples = true;  ///< See xtnn::independent_samples.
    static constexpr bool trains_by_samples = true;    ///< See xtnn::trains_by_samples.
    static constexpr bool takes_channel_epilogue = true; ///< See xtnn::takes_channel_epilogue.

    /// `in_channels` -> `out_channels` with a square `kernel` (stride 1, no padding).
    conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel)
        : conv2d(conv2d_options{
              .in_channels = in_channels, .out_channels = out_channels, .kernel_size = kernel}) {}

    /// A layer configured by `options`; the parameters are initialized from `options.seed`.
    explicit conv2d(conv2d_options options) : options_(std::move(options)) {
        const auto& o = options_;
        const auto positive = [](std::size_t v) { return v > 0; };
        detail::require_option(positive(o.in_channels), "conv2d", "in_channels", "> 0", 0.0);
        detail::require_option(positive(o.out_channels), "conv2d", "out_channels", "> 0", 0.0);
        detail::require_option(positive(o.kernel_size.height) && positive(o.kernel_size.width),
                               "conv2d", "kernel_size", "> 0 both ways", 0.0);
        detail::require_option(positive(o.stride.height) && positive(o.stride.width), "conv2d",
                               "stride", "> 0 both ways", 0.0);
        detail::require_option(positive(o.dilation.height) && positive(o.dilation.width), "conv2d",
                               "dilation", "> 0 both ways", 0.0);
        if (o.padding.same && (o.stride.height != 1 || o.stride.width != 1)) {
            throw config_error("conv2d: padding \"same\" needs stride 1 (as PyTorch's); got "
                               "stride (" +
                               std::to_string(o.stride.height) + ", " +
                               std::to_string(o.stride.width) + ")");
        }
        if (o.padding.same) {
            const std::size_t span_h = o.dilation.height * (o.kernel_size.height - 1);
            const std::size_t span_w = o.dilation.width * (o.kernel_size.width - 1);
            pad_top_ = span_h / 2;
            pad_bottom_ = span_h - pad_top_;
            pad_left_ = span_w / 2;
            pad_right_ = span_w - pad_left_;
        } else {
            pad_top_ = pad_bottom_ = o.padding.height;
            pad_left_ = pad_right_ = o.padding.width;
        }
        const shape<4> w{o.out_channels, o.in_channels, o.kernel_size.height, o.kernel_size.width};
        weight_.resize(w);
        weight_grad_.resize(w);
        weight_grad_.fill(T(0));
        const shape<1> b{o.bias ? o.out_channels : 0};
        bias_.resize(b);
        bias_grad_.resize(b);
        bias_grad_.fill(T(0));
        random_engine rng(o.seed);
        initialize(rng);
    }

    /// The options the layer was built with.
    const conv2d_options& options() const { return options_; }
    /// The weights, `(out_channels, in_channels, kh, kw)`.
    tensor<T, 4>& weight() { return weight_; }
    /// The weights, `(out_channels, in_channels, kh, kw)`.
    const tensor<T, 4>& weight() const { return weight_; }
    /// The bias, `(out_channels)`; empty without one.
    tensor<T, 1>& bias() { return bias_; }
    /// The bias, `(out_channels)`; empty without one.
    const tensor<T, 1>& bias() const { return bias_; }

    /// The algorithm of the last forward pass: unfold, direct or winograd (automatic before
    /// the first). `direct` and `winograd` need float and a CPU with AVX2 or AVX-512
    /// (xtnn::active_simd()).
    conv_algorithm algorithm() const { return ran_; }
    /// The algorithm of the input gradient of a backward after the last forward: winograd
    /// where it applies in training (see conv_algorithm::winograd), else direct or unfold.
    conv_algorithm gradient_algorithm() const { return backward_algorithm(winograd_gradient_); }
    /// The algorithm of the weight gradient of a backward after the last forward: winograd
    /// where the forward ran by Winograd in training, else direct or unfold.
    conv_algorithm weight_gradient_algorithm() const {
        return backward_algorithm(winograd_weights_);
    }
    /// The tile of the last forward's Winograd: 4 for F(4 × 4, 3 × 3), 2 for F(2 × 2, 3 × 3)
    /// (small planes, see conv_algorithm::winograd); 0 where the forward ran otherwise.
    std::size_t winograd_tile() const {
        return ran_ == conv_algorithm::winograd ? winograd_.tile : 0;
    }
    /// The tile of the input gradient's Winograd of a backward after the last forward (its
    /// own plane's: the input's); 0 where it runs otherwise.
    std::size_t gradient_winograd_tile() const {
        return winograd_gradient_ ? gradient_winograd_.tile : 0;
    }
    /// Whether the last forward's direct kernels packed the output positions of several
    /// samples into each vector (small planes, see docs/performance.md): the same sums in the
    /// same order, so the same bits as one sample at a time.
    bool packed_positions() const { return ran_ == conv_algorithm::direct && packed_span_ != 0; }
    /// The threads that shared the last forward's one sample: more than 1 only for a batch of
    /// one in inference on several threads (xtnn::num_threads), which split the filters (the
    /// direct kernels by blocks of 4, Winograd by vectors) for single-image latency, with the
    /// same bits as one thread.
    std::size_t sample_threads() const { return sample_threads_; }

    /// Draws new initial parameters from `rng` with the configured initializers.
    void initialize(random_engine& rng) {
        const std::size_t taps = options_.kernel_size.height * options_.kernel_size.width;
        const fans f{options_.in_channels * taps, options_.out_channels * taps};
        fill(options_.weight_init, std::span<T>(weight_.data(), weight_.size()), f, rng);
        fill(options_.bias_init, std::span<T>(bias_.data(), bias_.size()), f, rng);
    }

    /// `(batch, in_channels, H, W)` -> `(batch, out_channels, OH, OW)`.
    /// @throws shape_error for other channels, or a kernel that does not fit the padded input.
    shape<4> output_shape(const shape<4>& input) const {
        const auto& o = options_;
        if (input[1] != o.in_channels) {
            shape<4> expected = input;
            expected[1] = o.in_channels;
            throw shape_error(detail::mismatch_message("conv2d::forward", "input channels mismatch",
                                                       format_shape(expected),
                                                       format_shape(input)));
        }
        const std::size_t span_h = o.dilation.height * (o.kernel_size.height - 1) + 1;
        const std::size_t span_w = o.dilation.width * (o.kernel_size.width - 1) + 1;
        const std::size_t padded_h = input[2] + pad_top_ + pad_bottom_;
        const std::size_t padded_w = input[3] + pad_left_ + pad_right_;
        if (padded_h < span_h || padded_w < span_w) {
            throw shape_error(detail::mismatch_message(
                "conv2d::forward",
                "the kernel (with dilation) is larger than the padded input; padded input "
                "(height, width) at least",
                "(" + std::to_string(span_h) + ", " + std::to_string(span_w) + ")",
                "(" + std::to_string(padded_h) + ", " + std::to_string(padded_w) + ") from input " +
                    format_shape(input)));
        }
        return {input[0], o.out_channels, (padded_h - span_h) / o.stride.height + 1,
                (padded_w - span_w) / o.stride.width + 1};
    }

    /// "weight" `(out_channels, in_channels, kh, kw)` and, with a bias, "bias".
    std::vector<parameter_view<T>> parameters() {
        const auto& o = options_;
        std::vector<parameter_view<T>> views;
        views.push_back(
            {"weight",
             std::span<T>(weight_.data(), weight_.size()),
             std::span<T>(weight_grad_.data(), weight_grad_.size()),
             {o.out_channels, o.in_channels, o.kernel_size.height, o.kernel_size.width}});
        if (o.bias) {
            views.push_back({"bias",
                             std::span<T>(bias_.data(), bias_.size()),
                             std::span<T>(bias_grad_.data(), bias_grad_.size()),
                             {o.out_channels}});
        }
        return views;
    }

  private:
    friend layer_access;
    struct part_buffers;      // each part's (thread's) buffers
    struct gradient_phase;    // one phase of the stride in the input gradient
    struct winograd_geometry; // a Winograd correlation's plan

    // A gradient's algorithm: winograd where `by_winograd`, else the direct kernels after a
    // Winograd forward, else the forward's.
    conv_algorithm backward_algorithm(bool by_winograd) const {
        return by_winograd                        ? conv_algorithm::winograd
               : ran_ == conv_algorithm::winograd ? conv_algorithm::direct
                                                  : ran_;
    }

    // db[f] += the sum of plane f of `planes` (`filters` planes of `positions` values), f <
    // filters; nothing without a bias.
    void add_bias_gradient(const T* planes, std::size_t filters, std::size_t positions,
                           T* db) const {
        for (std::size_t f = 0; f < filters && options_.bias; ++f) {
            const T* plane = planes + f * positions;
            db[f] += detail::lane_sum<T>(positions, [plane](std::size_t p) { return plane[p]; });
        }
    }

    /// The convolution of x into `y`, which must have output_shape(x.shape()).
    void compute_forward(const tensor<T, 4>& x, tensor<T, 4>& y, mode m) {
        convolve(x, y, m, nullptr);
    }

    /// In inference, the convolution with `then` applied to each output: by the direct
    /// kernels as they store it, else in a pass after the products.
    void compute_forward_then(const tensor<T, 4>& x, tensor<T, 4>& y,
                              const channel_epilogue<T>& then) {
        convolve(x, y, mode::inference, &then);
    }

    // The forward, with `then` (null for none) applied to y.
    void convolve(const tensor<T, 4>& x, tensor<T, 4>& y, mode m, const channel_epilogue<T>* then) {
        const shape<4> s = y.shape();
        size_buffers(x.shape(), s, m);
        const std::size_t filters = s[1], positions = s[2] * s[3];
        input_shape_ = x.shape();
        sample_threads_ = 1;
        if (s[0] == 0 || positions == 0) {
            return;
        }
        const std::size_t k = weight_.size() / filters;
        if (kernels_ != nullptr) {
            if constexpr (std::same_as<T, float>) {
                if (ran_ == conv_algorithm::winograd) {
                    forward_winograd(x, y, then);
                } else {
                    forward_direct(x, y, then);
                }
                return;
            }
        }
        // Each part (thread) its samples, in chunks unfolded into its own columns.
        detail::parallel_for(split_, [&](std::size_t first, std::size_t last, std::size_t part) {
            part_buffers& buffers = parts_[part];
            for (std::size_t b0 = first; b0 < last; b0 += chunk_) {
                const std::size_t count = std::min(chunk_, last - b0), cols = count * positions;
                unfold(x, s, b0, count, buffers.columns);
                // (filters, cols) = W (filters, K) · columnsᵀ: one product for the chunk,
                // whose samples then go to their NCHW places onto the bias.
                T* product = buffers.products.data();
                detail::gemm(false, true, filters, cols, k, T(1), weight_.data(), k,
                             buffers.columns.data(), k, T(0), product, cols);
                for (std::size_t b = 0; b < count; ++b) {
                    T* out = y.data() + (b0 + b) * filters * positions;
                    for (std::size_t f = 0; f < filters; ++f) {
                        const T shift = options_.bias ? bias_(f) : T(0);
                        const T* from = product + f * cols + b * positions;
                        for (std::size_t p = 0; p < positions; ++p) {
                            out[f * positions + p] = shift + from[p];
                        }
                        if (then != nullptr) {
                            apply(*then, f, out + f * positions, positions);
                        }
                    }
                }
            }
        });
    }

    // values[p] = max(values[p]·scale[f] + shift[f], 0) for p < n (the max when rectifying):
    // the epilogue of channel f where the direct kernels do not run.
    static void apply(const channel_epilogue<T>& then, std::size_t f, T* values, std::size_t n) {
        const T scale = then.scale[f], shift = then.shift[f];
        for (std::size_t p = 0; p < n; ++p) {
            const T v = values[p] * scale + shift;
            values[p] = then.rectify && v < T(0) ? T(0) : v;
        }
    }

    /// Writes dW, db and, when `dx` is not null, dx (col2im of Wᵀ dy).
    void compute_backward(const tensor<T, 4>& x, const tensor<T, 4>&, const tensor<T, 4>& dy,
                          tensor<T, 4>* dx) {
        const shape<4> s = dy.shape();
        if (input_shape_ != x.shape() || chunk_ == 0) {
            throw std::logic_error("conv2d::backward: no forward ran for input shape " +
                                   format_shape(x.shape()));
        }
        const std::size_t filters = s[1], positions = s[2] * s[3];
        const std::size_t k = weight_.size() / filters;
        const std::size_t sample = x.size() / std::max<std::size_t>(s[0], 1);
        if (kernels_ != nullptr) {
            if constexpr (std::same_as<T, float>) {
                const bool by_winograd = dx != nullptr && winograd_gradient_;
                if (winograd_weights_) {
                    weight_gradient_winograd(x, dy);
                    if (dx != nullptr && !by_winograd) {
                        backward_direct(x, dy, dx, false);
                    }
                } else {
                    backward_direct(x, dy, by_winograd ? nullptr : dx, true);
                }
                if (by_winograd) {
                    gradient_winograd(dy, *dx);
                }
                add_part_gradients();
                return;
            }
        }
        if (dx != nullptr) { // only backward with an input gradient needs it (not the first layer)
            for (std::size_t part = 0; part < split_.parts; ++part) {
                part_buffers& buffers = parts_[part];
                if (buffers.column_gradient.shape() != buffers.columns.shape()) {
                    buffers.column_gradient.resize(buffers.columns.shape());
                }
            }
        }
        // The forward's parts: part 0 accumulates into the layer's gradients, the others into
        // their own, added in order afterwards (the same sums for the same thread count).
        detail::parallel_for(split_, [&](std::size_t first, std::size_t last, std::size_t part) {
            part_buffers& buffers = parts_[part];
            T* dw = part == 0 ? weight_grad_.data() : buffers.weight_grad.data();
            T* db = part == 0 ? bias_grad_.data() : buffers.bias_grad.data();
            std::fill(db, db + bias_.size(), T(0));
            if (dx != nullptr) {
                std::fill(dx->data() + first * sample, dx->data() + last * sample, T(0));
            }
            if (positions == 0 || first == last) {
                std::fill(dw, dw + weight_.size(), T(0));
                return;
            }
            // Last chunk first: the forward left it unfolded; the others are unfolded again.
            const std::size_t chunks = (last - first + chunk_ - 1) / chunk_;
            for (std::size_t chunk = chunks; chunk-- > 0;) {
                const std::size_t b0 = first + chunk * chunk_;
                const std::size_t count = std::min(chunk_, last - b0), cols = count * positions;
                if (chunk + 1 != chunks) {
                    unfold(x, s, b0, count, buffers.columns);
                }
                // The chunk's output gradients side by side, (filters, cols).
                T* gradient = buffers.products.data();
                for (std::size_t b = 0; b < count; ++b) {
                    const T* g = dy.data() + (b0 + b) * filters * positions;
                    for (std::size_t f = 0; f < filters; ++f) {
                        std::copy_n(g + f * positions, positions,
                                    gradient + f * cols + b * positions);
                    }
                    add_bias_gradient(g, filters, positions, db);
                }
                // dW (filters, K) = dY · columns for the first chunk, += for the others (no
                // pass clearing dW first: 9 MB a layer for a ResNet's last stage).
                detail::gemm(false, false, filters, k, cols, T(1), gradient, cols,
                             buffers.columns.data(), k, chunk + 1 == chunks ? T(0) : T(1), dw, k);
                if (dx != nullptr) {
                    // d(columns) (cols, K) = dYᵀ · W, folded back below.
                    detail::gemm(true, false, cols, k, filters, T(1), gradient, cols,
                                 weight_.data(), k, T(0), buffers.column_gradient.data(), k);
                    fold(*dx, s, b0, count, buffers.column_gradient);
                }
            }
        });
        add_part_gradients();
    }

    // Adds the parts' gradients after the first to the layer's, in order.
    void add_part_gradients() {
        // In place (xtensor's += would assign a temporary: a new buffer, and dangling views).
        const auto add = [](auto& total, const T* share) {
            for (std::size_t i = 0; i < total.size(); ++i) {
                total.data()[i] += share[i];
            }
        };
        for (std::size_t part = 1; part < split_.parts; ++part) {
            add(weight_grad_, parts_[part].weight_grad.data());
            add(bias_grad_, parts_[part].bias_grad.data());
        }
    }

    // The parts with buffers of their own: the batch's, or a single sample's (sample_parts_).
    std::size_t buffer_parts() const { return std::max(split_.parts, sample_parts_); }

    // Splits `batch` samples of `per_sample` values over the threads, and each part into
    // balanced chunks of at most `room` values (`shared`: room for all the parts together),
    // at least one sample each; makes room for the parts' buffers.
    void split_batch(std::size_t batch, std::size_t per_sample, std::size_t room, bool shared) {
        split_ = detail::partition(batch, 1, num_threads());
        // The first part is the largest. Balanced: 64 samples with room for 30 are 3 chunks
        // of 22, not 30, 30 and 4.
        const std::size_t n = std::max<std::size_t>(split_.begin(1), 1);
        const std::size_t share = shared ? room / split_.parts : room;
        const std::size_t most = std::clamp<std::size_t>(share / per_sample, 1, n);
        const std::size_t chunks = (n + most - 1) / most;
        chunk_ = (n + chunks - 1) / chunks;
        if (parts_.size() < buffer_parts()) {
            parts_.resize(buffer_parts());
        }
    }

    // Splits the batch over the threads and each part into balanced chunks that fit the
    // workspace (shared by the parts), and sizes each part's buffers.
    void size_buffers(const shape<4>& in, const shape<4>& out, mode m) {
        const std::size_t taps = in[1] * options_.kernel_size.height * options_.kernel_size.width;
        const std::size_t positions = out[2] * out[3];
        kernels_ = direct_kernels(in, out, m);
        ran_ = kernels_ != nullptr ? conv_algorithm::direct : conv_algorithm::unfold;
        winograd_gradient_ = winograd_weights_ = false;
        // A single sample in inference (a latency): its filters split over the threads,
        // where it is worth a loop (about 1 µs to start one: 128k multiply-adds take 1-2 µs).
        sample_parts_ = m == mode::inference && out[0] == 1 && kernels_ != nullptr &&
                                out[1] * positions * taps >= (std::size_t{1} << 17)
                            ? num_threads()
                            : 1;
        if (kernels_ != nullptr) {
            size_direct(in, out); // backward's buffers, whatever the forward
            size_winograd(in, out, m);
            return;
        }
        const std::size_t per_sample = std::max<std::size_t>(taps * positions, 1);
        split_batch(out[0], per_sample, options_.workspace, true);
        const shape<2> c{chunk_ * positions, taps};
        for (std::size_t part = 0; part < split_.parts; ++part) {
            part_buffers& buffers = parts_[part];
            if (buffers.columns.shape() != c) {
                buffers.columns.resize(c);
            }
            if (buffers.products.shape() != shape<2>{out[1], c[0]}) {
                buffers.products.resize(shape<2>{out[1], c[0]});
            }
            if (part > 0 && buffers.weight_grad.shape() != weight_.shape()) {
                buffers.weight_grad.resize(weight_.shape());
                buffers.bias_grad.resize(bias_.shape());
            }
        }
    }

    // The direct kernels of the active instruction set where they apply (float, not
    // options.algorithm unfold), else null. In training, automatic leaves to unfolding the
    // layers whose samples have few output positions (at most 16: a ResNet's 4 × 4 and 2 × 2
    // planes) or a 1 × 1 kernel: one product per chunk of samples then uses whole vectors,
    // where the direct kernels' rows of the padded width use a quarter to a half of each
    // vector on such planes (resnet18's convolutions trained 2× as fast, see
    // docs/performance.md); F(2 × 2, 3 × 3) too, whose forward alone on resnet18's 4 × 4
    // planes ran 3× as fast, but whose filters, transformed again each step, take that back
    // (resnet18's training step at batch 8 on 64 × 64 images, 0.86-1.04×).
    // Inference chooses by the sample's shape alone, so that a sample's output does not depend on
    // its batch (which sequential's inference groups rely on).
    const detail::kernel_set* direct_kernels(const shape<4>& in, const shape<4>& out,
                                             mode m) const {
        if constexpr (!std::same_as<T, float>) {
            return nullptr;
        } else {
            const auto& o = options_;
            const std::size_t positions = out[2] * out[3];
            const bool small = positions <= 16 || o.kernel_size.height * o.kernel_size.width == 1;
            // (winograd, asked for, where it does not apply: as automatic)
            const bool automatic = o.algorithm == conv_algorithm::automatic ||
                                   (o.algorithm == conv_algorithm::winograd &&
                                    winograd_tile(in[1], out[1], out[2], out[3]) == 0);
            if (o.algorithm == conv_algorithm::unfold ||
                (automatic && m == mode::training && small)) {
                return nullptr;
            }
            return detail::simd_kernels(active_simd());
        }
    }

    // Rounds n up to a multiple of `block`.
    static std::size_t round_up(std::size_t n, std::size_t block) {
        return (n + block - 1) / block * block;
    }

    // Sizes a buffer to `size` values, zeroed when its size changes or `again` (the kernels
    // read the zeros of the padding, which the copies below never write).
    static void size_zeroed(tensor<T, 1>& buffer, std::size_t size, bool again = false) {
        if (buffer.size() != size) {
            buffer.resize(shape<1>{size});
            again = true;
        }
        if (again) {
            buffer.fill(T(0));
        }
    }

    // The rows (or columns) of phase `phase` of a stride that hold the input: of the padded
    // positions r = a·stride + phase, those with r in [pad, pad + extent), as a in [first,
    // first + count).
    static std::pair<std::size_t, std::size_t> phase_range(std::size_t pad, std::size_t extent,
                                                           std::size_t stride, std::size_t phase) {
        const auto above = [&](std::size_t r) { // the first a with a·stride + phase ≥ r
            return r > phase ? (r - phase + stride - 1) / stride : 0;
        };
        const std::size_t first = above(pad), last = above(pad + extent);
        return {first, last - first};
    }

    // The geometry of the direct kernels (kernels.hpp), the offsets of the taps, where their
    // sums go in the output planes, and each part's buffers: the padded input of a chunk of
    // samples, their output gradients (rows of the padded width), and the chunk's output
    // gradients padded for the input gradient's full correlation.
    //
    // A stride s > 1 is a stride-1 correlation over the input's phases: plane (ρ, σ) of a
    // channel holds the padded input's rows a·sh + ρ and columns b·sw + σ, so a tap (u, v)
    // reads phase ((u·dh) mod sh, (v·dw) mod sw) at (a, b) = (i + ⌊u·dh / sh⌋, j + ⌊v·dw /
    // sw⌋) for output (i, j): one offset per tap again (only the phases some tap reads are
    // stored; stride 1 is the one phase of the padded input). The input gradient is a full
    // correlation per phase of the padded input, with the taps of that phase (gradient_phase).
    void size_direct(const shape<4>& in, const shape<4>& out) {
        direct_geometry& g = direct_;
        const std::size_t lanes = kernels_->lanes;
        const std::size_t channels = in[1], filters = out[1];
        // The geometry depends on the input's shape and the vector width only.
        const std::array<std::size_t, 4> geometry{in[1], in[2], in[3], lanes};
        if (geometry != geometry_) {
            geometry_ = geometry;
            place_taps(in, out);
        }
        // Reads reach past the last plane by less than a vector and the taps' reach.
        const std::size_t tail = lanes + g.grad_left;

        // Chunks whose padded inputs and output gradients stay in a core's L2 cache (512 KB
        // of floats, each part its own): the weight gradient reads them once per tile of taps.
        split_batch(out[0], std::max<std::size_t>(g.sample + g.unfolded + g.grad_sample, 1),
                    std::min<std::size_t>(options_.workspace, std::size_t{1} << 17), false);
        // Where the kernels' sums go in the output planes (unfolded: in order).
        if (g.unfold) {
            output_places_.build(lanes, (out[2] * out[3] + lanes - 1) / lanes, out[3], out[2], 0,
                                 out[3]);
        } else {
            output_places_.build(lanes, g.vectors, g.width, out[2], 0, out[3]);
        }
        // Small planes: a chunk's output positions packed, sample after sample, when that
        // takes at most half the vectors (a 2 × 2 output's rows of the padded width fill a
        // quarter of a vector: 8 samples then take 2 vectors, not 8; a 4 × 4 output's rows
        // half). correlate_rows reads the packed rows, one per tap, in blocks of taps that
        // stay in the L1 cache (read from L2 for every block of filters, the 4 × 4 planes
        // had run slower packed than not). Packing where it saves less lost as much as it
        // won (7 × 7 outputs: 0.96-1.19×).
        const std::size_t taps = offsets_.size(), positions = out[2] * out[3];
        const std::size_t span = round_up(chunk_ * positions, lanes);
        packed_span_ =
            !g.unfold && 2 * span <= lanes * chunk_ * g.vectors && taps * span <= options_.workspace
                ? span
                : 0;
        for (std::size_t part = 0; part < buffer_parts(); ++part) {
            part_buffers& buffers = parts_[part];
            // Another input shape moves the padding within buffers that may keep their size.
            const bool padding_moved = buffers.padded_shape != in;
            buffers.padded_shape = in;
            size_zeroed(buffers.padded, chunk_ * g.sample + tail, padding_moved);
            size_zeroed(buffers.unfolded, chunk_ * g.unfolded + (g.unfold ? lanes : 0));
            if (part >= split_.parts) {
                continue; // a single sample's part (sample_parts_): its padded input only
            }
            const bool moved = buffers.direct_shape != in;
            buffers.direct_shape = in;
            size_zeroed(buffers.output_gradient, chunk_ * g.grad_sample, moved);
            size_zeroed(buffers.gradient_padded,
                        chunk_ * filters * g.grad_height * g.grad_width + tail, moved);
            size_zeroed(buffers.weight_gradient, offsets_.size() * g.grad_channels);
            size_zeroed(buffers.phase_gradient, chunk_ * channels * g.phase_plane);
            size_zeroed(buffers.packed, taps * packed_span_);
            size_zeroed(buffers.packed_output, filters * packed_span_);
            if (part > 0 && buffers.weight_grad.shape() != weight_.shape()) {
                buffers.weight_grad.resize(weight_.shape());
                buffers.bias_grad.resize(bias_.shape());
            }
        }
    }

    // The direct kernels' geometry for input shape `in`: the phase planes, the offsets of the
    // forward's taps and the input gradient's phases (see size_direct).
    void place_taps(const shape<4>& in, const shape<4>& out) {
        const auto& o = options_;
        direct_geometry& g = direct_;
        const std::size_t lanes = kernels_->lanes;
        const std::size_t channels = in[1], filters = out[1];
        const std::size_t kh = o.kernel_size.height, kw = o.kernel_size.width;
        const std::size_t sh = o.stride.height, sw = o.stride.width;
        const std::size_t dh = o.dilation.height, dw = o.dilation.width;
        const std::size_t padded_h = in[2] + pad_top_ + pad_bottom_;
        const std::size_t padded_w = in[3] + pad_left_ + pad_right_;
        // The phases the taps read, each a slot (row slots × column slots) of a channel.
        std::vector<std::size_t> row_slots(sh, no_slot), column_slots(sw, no_slot);
        std::size_t row_phases = 0, column_phases = 0;
        for (std::size_t u = 0; u < kh; ++u) {
            if (row_slots[u * dh % sh] == no_slot) {
                row_slots[u * dh % sh] = row_phases++;
            }
        }
        for (std::size_t v = 0; v < kw; ++v) {
            if (column_slots[v * dw % sw] == no_slot) {
                column_slots[v * dw % sw] = column_phases++;
            }
        }
        const auto slot = [&](std::size_t rho, std::size_t sigma) {
            return row_slots[rho] * column_phases + column_slots[sigma];
        };
        g.phases = row_phases * column_phases;
        g.height = (padded_h + sh - 1) / sh;
        g.width = (padded_w + sw - 1) / sw;
        g.sample = channels * g.phases * g.height * g.width;
        g.vectors = (out[2] * g.width + lanes - 1) / lanes;
        g.out_height = out[2];
        g.out_width = out[3];
        g.filters = round_up(filters, detail::conv_channel_block);
        // Few taps (a first layer's): the input unfolded (below); the weight gradient by rows
        // of positions. Else the weight gradient from the output gradient transposed
        // (channels innermost), see kernels_isa.hpp.
        g.unfold = in[1] * kh * kw <= 32;
        g.grad_channels = g.unfold ? 0 : round_up(filters, lanes);
        g.grad_sample = out[2] * out[3] * g.grad_channels;
        // The input gradient: the output gradient with reach_h rows and reach_w columns of
        // zeros before it (the taps' furthest phase offsets), and after it to a phase plane's
        // extents and that reach.
        const std::size_t reach_h = (kh - 1) * dh / sh, reach_w = (kw - 1) * dw / sw;
        g.grad_height = g.height + reach_h;
        g.grad_width = g.width + reach_w;
        g.grad_top = reach_h;
        g.grad_left = reach_w;
        offsets_.resize(channels * kh * kw);
        in_order_.resize(offsets_.size());
        for (std::size_t k = 0; k < in_order_.size(); ++k) {
            in_order_[k] = k; // the forward reads each filter's weights in order
        }
        for (std::size_t c = 0, k = 0; c < channels; ++c) {
            for (std::size_t u = 0; u < kh; ++u) {
                for (std::size_t v = 0; v < kw; ++v, ++k) {
                    const std::size_t plane = c * g.phases + slot(u * dh % sh, v * dw % sw);
                    offsets_[k] = (plane * g.height + u * dh / sh) * g.width + v * dw / sw;
                }
            }
        }
        unfold_taps(out);
        size_gradient_phases(in, out);
        g.phase_plane = 0; // the largest phase of the input gradient, strides > 1
        for (gradient_phase& p : phases_) {
            p.slot = p.taps.empty() ? no_slot : slot(p.rho, p.sigma);
            g.phase_plane = sh * sw > 1 ? std::max(g.phase_plane, p.rows * p.cols) : 0;
        }
    }

    // Few taps (direct_geometry::unfold): each tap's values for the output positions in the
    // output's order. A tap (c, u, v) reads its phase plane at row i + ⌊u·dh / sh⌋ and
    // column j + ⌊v·dw / sw⌋ for output (i, j) (see size_direct); the plane's rows, from the
    // column ⌊v·dw / sw⌋ on, copied to rows of the output's width ow, hold them at
    // (i + ⌊u·dh / sh⌋)·ow + j, in order. So one copy per plane and column shift (3 of a
    // 1-channel 3 × 3 layer's 28-row plane, for its 9 taps), and the forward stores its sums
    // as whole vectors (no compaction) while the weight gradient reads the output gradient
    // in place (it had been copied to rows of the padded width: a third of its time).
    void unfold_taps(const shape<4>& out) {
        direct_geometry& g = direct_;
        const std::size_t ow = out[3], copy = g.height * ow;
        unfolded_offsets_.clear();
        unfold_sources_.clear();
        g.unfolded = 0;
        if (!g.unfold) {
            return;
        }
        for (const std::size_t offset : offsets_) {
            const std::size_t row = offset / g.width, shift = offset % g.width;
            const std::size_t source = row / g.height * g.height * g.width + shift;
            const auto at = std::find(unfold_sources_.begin(), unfold_sources_.end(), source);
            const std::size_t j = static_cast<std::size_t>(at - unfold_sources_.begin());
            if (at == unfold_sources_.end()) {
                unfold_sources_.push_back(source);
            }
            unfolded_offsets_.push_back(j * copy + row % g.height * ow);
        }
        g.unfolded = unfold_sources_.size() * copy;
    }

    // A sample's padded input (see pad_input) unfolded into `to` (see unfold_taps).
    void unfold_input(const T* padded, T* to) const {
        const direct_geometry& g = direct_;
        const std::size_t ow = g.out_width;
        for (std::size_t j = 0; j < unfold_sources_.size(); ++j) {
            kernels_->copy_rows(padded + unfold_sources_[j], g.width, to + j * g.height * ow, ow,
                                g.height, ow);
        }
    }

    // What the direct kernels read of a chunk: its samples, each `sample` values apart, the
    // taps' offsets in them and the positions a sample's sums cover (rows of the padded
    // width, or unfolded: the output's positions).
    struct direct_input {
        const T* values;
        std::size_t sample;
        const std::size_t* offsets;
        std::size_t count;
    };

    // Samples [b0, b0 + count) of x padded into `buffers` (see pad_input), and unfolded where
    // the taps are few (see unfold_taps).
    direct_input prepare_input(const tensor<T, 4>& x, std::size_t b0, std::size_t count,
                               part_buffers& buffers) const {
        const direct_geometry& g = direct_;
        for (std::size_t b = 0; b < count; ++b) {
            T* padded = buffers.padded.data() + b * g.sample;
            pad_input(x, b0 + b, padded);
            if (g.unfold) {
                unfold_input(padded, buffers.unfolded.data() + b * g.unfolded);
            }
        }
        if (g.unfold) {
            return {buffers.unfolded.data(), g.unfolded, unfolded_offsets_.data(),
                    g.out_height * g.out_width};
        }
        return {buffers.padded.data(), g.sample, offsets_.data(), g.out_height * g.width};
    }

    // The input gradient's phases (see size_direct): for each (ρ, σ) of the stride whose
    // input rows and columns exist, the taps that reach it, their offsets in the padded output
    // gradient, and where the sums go.
    void size_gradient_phases(const shape<4>& in, const shape<4>& out) {
        const auto& o = options_;
        const direct_geometry& g = direct_;
        const std::size_t lanes = kernels_->lanes, filters = out[1];
        const std::size_t kh = o.kernel_size.height, kw = o.kernel_size.width;
        const std::size_t sh = o.stride.height, sw = o.stride.width;
        const std::size_t dh = o.dilation.height, dw = o.dilation.width;
        std::size_t count = 0;
        for (std::size_t rho = 0; rho < sh; ++rho) {
            for (std::size_t sigma = 0; sigma < sw; ++sigma) {
                const auto [row0, rows] = phase_range(pad_top_, in[2], sh, rho);
                const auto [col0, cols] = phase_range(pad_left_, in[3], sw, sigma);
                if (rows == 0 || cols == 0) {
                    continue;
                }
                if (phases_.size() <= count) {
                    phases_.emplace_back();
                }
                gradient_phase& p = phases_[count++];
                p.rho = rho;
                p.sigma = sigma;
                p.row0 = row0;
                p.rows = rows;
                p.col0 = col0;
                p.cols = cols;
                p.dx_row = row0 * sh + rho - pad_top_;
                p.dx_col = col0 * sw + sigma - pad_left_;
                // Its taps, furthest first: offsets ascend, as the kernel turned by 180°.
                p.taps.clear();
                for (std::size_t u = kh; u-- > 0;) {
                    for (std::size_t v = kw; v-- > 0;) {
                        if (u * dh % sh == rho && v * dw % sw == sigma) {
                            p.taps.push_back(u * kw + v);
                        }
                    }
                }
                // Tap (f, u, v) of input channel c: weight[f][c][u][v], read in place.
                p.offsets.resize(filters * p.taps.size());
                p.weights.resize(p.offsets.size());
                for (std::size_t f = 0, k = 0; f < filters; ++f) {
                    for (const std::size_t tap : p.taps) {
                        const std::size_t u = tap / kw, v = tap % kw;
                        p.weights[k] = f * in[1] * kh * kw + tap;
                        p.offsets[k++] =
                            (f * g.grad_height + g.grad_top - u * dh / sh) * g.grad_width +
                            g.grad_left - v * dw / sw;
                    }
                }
                p.places.build(lanes, (rows * g.grad_width + lanes - 1) / lanes, g.grad_width, rows,
                               col0, cols);
            }
        }
        phases_.resize(count);
    }

    // The bias padded to whole blocks of filters, where correlate's sums start.
    void pad_bias() {
        const std::size_t filters = options_.out_channels;
        size_zeroed(padded_bias_, round_up(filters, detail::conv_channel_block));
        std::copy_n(bias_.data(), options_.bias ? filters : 0, padded_bias_.data());
    }

    // Copies sample `b` of x into `to`, inside its zero padding, split into the phases of the
    // stride that the taps read (see size_direct).
    void pad_input(const tensor<T, 4>& x, std::size_t b, T* to) const {
        const direct_geometry& g = direct_;
        const std::size_t channels = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
        const std::size_t sh = options_.stride.height, sw = options_.stride.width;
        const std::size_t plane = g.height * g.width;
        const T* from = x.data() + b * channels * h * w;
        if (sh == 1 && sw == 1) {
            for (std::size_t c = 0; c < channels; ++c) {
                kernels_->copy_rows(from + c * h * w, w,
                                    to + (c * g.height + pad_top_) * g.width + pad_left_, g.width,
                                    h, w);
            }
            return;
        }
        // The phases some tap reads, where gradient_phase says they hold input values.
        for (const gradient_phase& p : phases_) {
            if (p.slot == no_slot) {
                continue;
            }
            for (std::size_t c = 0; c < channels; ++c) {
                // Phase (a, b) holds input (a·sh + rho - pad_top, b·sw + sigma - pad_left).
                const T* source = from + c * h * w + p.dx_row * w + p.dx_col;
                T* target = to + (c * g.phases + p.slot) * plane + p.row0 * g.width + p.col0;
                for (std::size_t a = 0; a < p.rows; ++a) {
                    const T* line = source + a * sh * w;
                    for (std::size_t k = 0; k < p.cols; ++k) {
                        target[a * g.width + k] = line[k * sw];
                    }
                }
            }
        }
    }

    void forward_direct(const tensor<T, 4>& x, tensor<T, 4>& y, const channel_epilogue<T>* then) {
        pad_bias();
        const detail::epilogue after =
            then == nullptr
                ? detail::epilogue{}
                : detail::epilogue{then->scale.data(), then->shift.data(), then->rectify};
        const shape<4> s = y.shape();
        const std::size_t filters = s[1], oh = s[2], ow = s[3];
        if (sample_parts_ > 1 && s[0] == 1 && packed_span_ == 0) {
            // One sample: each part pads it into its own buffer and computes its blocks of
            // filters (each output's sum is the same whatever the part).
            constexpr std::size_t block = detail::conv_channel_block;
            const detail::partition blocks((filters + block - 1) / block, 1, sample_parts_);
            sample_threads_ = blocks.parts;
            detail::parallel_for(
                blocks, [&](std::size_t first, std::size_t last, std::size_t part) {
                    const std::size_t f0 = first * block, f1 = std::min(filters, last * block);
                    const direct_input in = prepare_input(x, 0, 1, parts_[part]);
                    kernels_->correlate(in.values, in.sample, 1, in.offsets, offsets_.size(),
                                        weight_.data() + f0 * offsets_.size(), offsets_.size(),
                                        in_order_.data(), f1 - f0,
                                        options_.bias ? padded_bias_.data() + f0 : nullptr,
                                        in.count, y.data() + f0 * oh * ow, oh * ow,
                                        filters * oh * ow, output_places_.view(), after.from(f0));
                });
            return;
        }
        detail::parallel_for(split_, [&](std::size_t first, std::size_t last, std::size_t part) {
            part_buffers& buffers = parts_[part];
            for (std::size_t b0 = first; b0 < last; b0 += chunk_) {
                const std::size_t count = std::min(chunk_, last - b0);
                const direct_input in = prepare_input(x, b0, count, buffers);
                if (packed_span_ != 0) {
                    forward_packed(buffers, count, y.data() + b0 * filters * oh * ow, filters, oh,
                                   ow, after);
                    continue;
                }
                kernels_->correlate(in.values, in.sample, count, in.offsets, offsets_.size(),
                                    weight_.data(), offsets_.size(), in_order_.data(), filters,
                                    options_.bias ? padded_bias_.data() : nullptr, in.count,
                                    y.data() + b0 * filters * oh * ow, oh * ow, filters * oh * ow,
                                    output_places_.view(), after);
            }
        });
    }

    // The forward of `count` padded samples with their output positions packed: tap k's
    // values for every position of the chunk in row k of `packed` (the values the kernels
    // read in the padded planes, in the same order), correlate over those rows into
    // packed_output (filters, positions), then each sample's planes to `out`.
    void forward_packed(part_buffers& buffers, std::size_t count, T* out, std::size_t filters,
                        std::size_t oh, std::size_t ow, const detail::epilogue& after) {
        const direct_geometry& g = direct_;
        const std::size_t taps = offsets_.size(), positions = oh * ow;
        const std::size_t span = packed_span_;
        T* packed = buffers.packed.data();
        const T* padded = buffers.padded.data();
        for (std::size_t k = 0; k < taps; ++k) {
            for (std::size_t b = 0; b < count; ++b) {
                kernels_->copy_rows(padded + b * g.sample + offsets_[k], g.width,
                                    packed + k * span + b * positions, ow, oh, ow);
            }
        }
        T* sums = buffers.packed_output.data();
        kernels_->correlate_rows(packed, span, taps, weight_.data(), taps, filters,
                                 options_.bias ? padded_bias_.data() : nullptr, count * positions,
                                 sums, span, after);
        for (std::size_t b = 0; b < count; ++b) {
            kernels_->copy_rows(sums + b * positions, span, out + b * filters * positions,
                                positions, filters, positions);
        }
    }

    // Which Winograd F(m × m, 3 × 3) computes a correlation of `channels` input planes into
    // `filters` output planes of height × width, with a 3 × 3 kernel of stride and dilation 1:
    // m = 4 or 2, or 0 for none. Asked for, on any such layer: F(2 × 2, 3 × 3) on planes of
    // 3 × 3 to 36 positions, else F(4 × 4, 3 × 3). Automatic, where it measured faster
    // (docs/performance.md), with at least 16 channels and 32 filters (fewer leave the
    // products too thin for the transforms to pay) and at most 256 × 256 of them (F(4 × 4)'s
    // transformed filters, 4× the weights, take 9 MB there, and 36 MB at 512 × 512, per layer
    // and again for the input gradient; F(2 × 2)'s, 16/9 of the weights, still came from
    // memory too slowly for 512 × 512 on 7 × 7 at batch 1: 0.7× the direct kernels):
    // - F(2 × 2) on planes of 3 × 3 to 36 positions, where F(4 × 4)'s tiles of 16 outputs
    //   would be mostly past the plane's edge or too few to share its transformed filters
    //   (256 → 256 on 4 × 4: 1.0-1.2× the direct kernels at batch 1, 1.7-1.8× at batch 8; on
    //   6 × 6 1.3× and 2.2×; 64 → 64 on 6 × 6 1.5× and 1.2× F(4 × 4));
    // - F(4 × 4) where either there is at least one output position per 128 products of
    //   channels and filters (the transformed filters then stay near the caches between
    //   samples) or at least 48 positions (a sample's products then outweigh reading the
    //   transformed filters from memory: 128 → 128 on 8 × 8 measured 2.2-2.4× as fast at
    //   batch 8, 0.85-0.96× at batch 1; 256 → 256 on 14 × 14 1.3-2.2× and 1.8-3×).
    // By the sample's shape alone, as direct_kernels.
    std::size_t winograd_tile(std::size_t channels, std::size_t filters, std::size_t height,
                              std::size_t width) const {
        const auto& o = options_;
        const bool fits = o.kernel_size.height == 3 && o.kernel_size.width == 3 &&
                          o.stride.height == 1 && o.stride.width == 1 && o.dilation.height == 1 &&
                          o.dilation.width == 1;
        if (!fits || o.algorithm == conv_algorithm::direct) {
            return 0;
        }
        const std::size_t products = channels * filters, positions = height * width;
        const bool small = height >= 3 && width >= 3 && positions <= 36;
        if (o.algorithm == conv_algorithm::winograd) {
            return small ? 2 : 4;
        }
        if (channels < 16 || filters < 32 || products > 256 * 256) {
            return 0;
        }
        if (small) {
            return 2;
        }
        return positions * 128 >= products || positions >= 48 ? 4 : 0;
    }

    // Decides where Winograd runs (the direct kernels apply): the forward, and in training
    // the input gradient, a full correlation of the output gradient (padded by 2 - padding,
    // so padding at most 2) with the weights turned by 180°, filters and channels swapped;
    // then sizes what they need.
    void size_winograd(const shape<4>& in, const shape<4>& out, mode m) {
        if (const std::size_t tile = winograd_tile(in[1], out[1], out[2], out[3])) {
            ran_ = conv_algorithm::winograd;
            const winograd_geometry& g = winograd_;
            plan_winograd(winograd_, tile, in, out, pad_top_, pad_left_, false);
            // The weight gradient's: the chunk's output gradients, positions of filters with
            // zeros past the output's extent; the sums of the transformed weights' gradients
            // (point, filter, channel); the weights' (filter, tap, channel).
            winograd_weights_ = m == mode::training;
            for (std::size_t part = 0; winograd_weights_ && part < split_.parts; ++part) {
                part_buffers& buffers = parts_[part];
                const bool moved = buffers.output_gradient_shape != out;
                buffers.output_gradient_shape = out;
                size_zeroed(buffers.staged_output_gradient,
                            g.samples * g.tile * g.tile * g.rows * g.cols * g.filters, moved);
                size_zeroed(buffers.point_gradients, g.points() * g.filters * g.channels);
                size_zeroed(buffers.tap_gradients, 9 * out[1] * g.channels);
            }
        }
        const std::size_t tile = winograd_tile(out[1], in[1], in[2], in[3]);
        if (m == mode::training && pad_top_ <= 2 && pad_left_ <= 2 && tile != 0) {
            winograd_gradient_ = true;
            plan_winograd(gradient_winograd_, tile, out, in, 2 - pad_top_, 2 - pad_left_, true);
        }
    }

    // A Winograd correlation's plan and buffers, F(tile × tile, 3 × 3), from input `in`
    // padded by (top, left) to output `out`. A sample is staged with its padding, positions of
    // channels (rounded up to a vector; the padding and the extra channels hold zeros), so that the
    // transforms read and write whole vectors of channels or filters. The tiles run in blocks whose
    // transformed inputs and products take about 1 MiB (the L2 cache), and of at least 64
    // tiles: each block reads all the transformed filters, which for 256 → 256 channels (9
    // MB) come from memory, so blocks of the 8 tiles that 1 MiB holds ran 2-3× slower than of
    // 64 (a point's share of a block stays in L2 all the same). A large plane's tiles go in
    // blocks of near-equal size, small planes' tiles several samples to a block
    // (winograd_multiply computes each tile's sums in the same order whatever the block, so a
    // sample's outputs do not depend on its batch).
    void plan_winograd(winograd_geometry& g, std::size_t tile, const shape<4>& in,
                       const shape<4>& out, std::size_t top, std::size_t left, bool gradient) {
        const std::size_t lanes = kernels_->lanes;
        g.top = top;
        g.left = left;
        const std::size_t m = tile;
        g.rows = (out[2] + m - 1) / m;
        g.cols = (out[3] + m - 1) / m;
        g.height = m * g.rows + 2;
        g.width = m * g.cols + 2;
        const std::size_t channels = round_up(in[1], lanes), filters = round_up(out[1], lanes);
        if (channels != g.channels || filters != g.filters || m != g.tile) {
            g.weights.resize(shape<1>{0}); // another vector width: transform the filters again
        }
        g.channels = channels;
        g.filters = filters;
        g.tile = m;
        const std::size_t points = g.points(), tiles = g.rows * g.cols;
        const std::size_t most = std::max<std::size_t>(
            (std::size_t{1} << 18) / (points * (g.channels + g.filters)) / 8 * 8, 64);
        const std::size_t n = std::max<std::size_t>(split_.begin(1), 1); // the largest part
        g.samples = std::clamp<std::size_t>(most / tiles, 1, n);
        const std::size_t blocks = (tiles + most - 1) / most;
        g.block = g.samples > 1 ? g.samples * tiles : (tiles + blocks - 1) / blocks;
        size_zeroed(g.taps, 9 * in[1] * g.filters);
        size_zeroed(g.transformed_filters, points * g.channels * g.filters);
        for (tensor<T, 1>* padded : {&g.bias, &g.scale, &g.shift}) {
            size_zeroed(*padded, g.filters);
        }
        // Written whole before they are read: their size only.
        const auto at_least = [](tensor<T, 1>& buffer, std::size_t size) {
            if (buffer.size() < size) {
                buffer.resize(shape<1>{size});
            }
        };
        for (std::size_t part = 0; part < buffer_parts(); ++part) {
            part_buffers& buffers = parts_[part];
            shape<4>& staged_for = gradient ? buffers.gradient_staged_shape : buffers.staged_shape;
            const bool moved = staged_for != in;
            staged_for = in;
            size_zeroed(gradient ? buffers.staged_gradient : buffers.staged_input,
                        g.samples * g.height * g.width * g.channels, moved);
            at_least(buffers.transformed, points * point_stride(g.block, g.channels));
            at_least(buffers.products_by_point, points * point_stride(g.block, g.filters));
            at_least(buffers.staged_output, g.samples * m * m * tiles * g.filters);
        }
    }

    // The distance between two points' rows in a block of `size` tiles of `width` values each
    // (the transformed inputs, the products): the rows and one cache line more, so that the
    // 36 rows a tile's transform writes do not fall into the same sets of the L1 cache. At a
    // multiple of 4 KiB they did (64 → 32 channels' input gradient, blocks of 64 tiles): its
    // input transform ran at a fifth of its speed.
    static std::size_t point_stride(std::size_t size, std::size_t width) {
        return size * width + 16;
    }

    // Transforms the filters of plan g (G w Gᵀ for each filter and channel) from the weights
    // arranged in g.taps as (channel, tap, filter): as they are (the forward), or `turned` by
    // 180° with filters and channels swapped (the input gradient). Only when the weights
    // differ from those of g's last transform (a user or an optimizer may change them at any
    // time: in training, every step). The weights go to g.taps by the vector transposes (a
    // scalar loop, 9 stores a cache line apart per filter and channel, took 9 % of resnet18's
    // training step at batch 8 on 64 × 64 images).
    void transform_filters(winograd_geometry& g, bool turned) {
        const std::size_t size = weight_.size();
        if (g.weights.size() == size &&
            std::memcmp(g.weights.data(), weight_.data(), size * sizeof(T)) == 0) {
            return;
        }
        if (g.weights.size() != size) {
            g.weights.resize(shape<1>{size});
        }
        std::copy_n(weight_.data(), size, g.weights.data());
        const std::size_t filters = options_.out_channels, channels = options_.in_channels;
        const std::size_t per_filter = channels * 9;
        T* taps = g.taps.data();
        if (turned) {
            // Each filter's taps turned (tap k to 8 - k) into the transformed filters' buffer,
            // free until the transform below, then each filter's (channel, tap) block to
            // rows (filter, tap) of channels.
            T* turned_taps = g.transformed_filters.data();
            const T* w = weight_.data();
            for (std::size_t i = 0; i < size; i += 9) {
                for (std::size_t k = 0; k < 9; ++k) {
                    turned_taps[i + k] = w[i + 8 - k];
                }
            }
            for (std::size_t f = 0; f < filters; ++f) {
                kernels_->transpose(turned_taps + f * per_filter, detail::runs::even(9), channels,
                                    9, taps + f * 9 * g.filters, detail::runs::even(g.filters));
            }
        } else { // (filter, channel · tap) to (channel · tap, filter)
            kernels_->transpose(weight_.data(), detail::runs::even(per_filter), filters, per_filter,
                                taps, detail::runs::even(g.filters));
        }
        kernels_->winograd(g.tile).filter(taps, turned ? filters : channels, g.filters,
                                          g.transformed_filters.data(), g.channels * g.filters);
    }

    // The forward by Winograd.
    void forward_winograd(const tensor<T, 4>& x, tensor<T, 4>& y, const channel_epilogue<T>* then) {
        winograd_geometry& g = winograd_;
        const std::size_t filters = options_.out_channels;
        transform_filters(g, false);
        if (options_.bias) { // else the zeros of plan_winograd
            std::copy_n(bias_.data(), filters, g.bias.data());
        }
        detail::epilogue after{};
        if (then != nullptr) {
            std::copy_n(then->scale.data(), filters, g.scale.data());
            std::copy_n(then->shift.data(), filters, g.shift.data());
            after = {g.scale.data(), g.shift.data(), then->rectify};
        }
        winograd_correlate(g, x, y, after, false);
    }

    // The input gradient by Winograd: dy padded by (2 - padding) correlated
    // with the weights turned by 180°, filters and channels swapped.
    void gradient_winograd(const tensor<T, 4>& dy, tensor<T, 4>& dx) {
        winograd_geometry& g = gradient_winograd_;
        transform_filters(g, true);
        winograd_correlate(g, dy, dx, detail::epilogue{}, true);
    }

    // Winograd's F(m × m, 3 × 3) (Lavin and Gray, 2016; m = g.tile) by plan g: y = x (padded
    // by g.top, g.left) correlated with the filters of g.transformed_filters, plus g.bias,
    // `then` applied. Each m × m block of outputs (a tile) is Aᵀ [U ⊙ (Bᵀ d B)] A from its
    // (m + 2) × (m + 2) inputs d, with U = G w Gᵀ the transformed filters; summed over the
    // channels, the (m + 2)² points of the tiles are as many matrix products (tiles ×
    // channels by channels × filters), 4× (m = 4) or 2.25× (m = 2) fewer multiplications
    // than the direct sums. By chunks of samples (see plan_winograd):
    // stage them, then per block of their tiles: transform the inputs, multiply, transform the
    // products back with the bias and `then` into the staged outputs; then the outputs to
    // their NCHW planes.
    void winograd_correlate(const winograd_geometry& g, const tensor<T, 4>& x, tensor<T, 4>& y,
                            const detail::epilogue& then, bool gradient) {
        const shape<4> s = y.shape();
        const std::size_t filters = s[1], oh = s[2], ow = s[3];
        const std::size_t tiles = g.rows * g.cols, row = g.width * g.channels;
        const std::size_t plane = g.height * row, out_row = g.tile * g.cols * g.filters;
        const std::size_t out_plane = g.tile * g.rows * out_row;
        const detail::winograd_kernel_set& kernels = kernels_->winograd(g.tile);
        // Filters [f0, f1) (whole vectors) of tiles [n0, n1) of the staged samples into
        // `out`, in blocks of g.block from n0.
        const auto compute = [&](part_buffers& buffers, const T* staged, std::size_t n0,
                                 std::size_t n1, std::size_t f0, std::size_t f1) {
            T* v = buffers.transformed.data();
            T* products = buffers.products_by_point.data();
            T* out = buffers.staged_output.data();
            const detail::epilogue part_then = then.from(f0);
            for (std::size_t a = n0; a < n1; a += g.block) {
                const std::size_t b = std::min(n1, a + g.block), size = b - a;
                const auto runs = [&](auto&& run) { tile_runs(g, a, b, run); };
                runs([&](std::size_t sample, std::size_t i, std::size_t j, std::size_t length,
                         std::size_t at) {
                    kernels.input(staged + sample * plane + i * row + j * g.channels, row,
                                  g.channels, length, v + at * g.channels,
                                  point_stride(size, g.channels));
                });
                kernels.multiply(v, point_stride(size, g.channels),
                                 g.transformed_filters.data() + f0, g.channels * g.filters, size,
                                 g.channels, f1 - f0, g.filters, products + f0,
                                 point_stride(size, g.filters));
                runs([&](std::size_t sample, std::size_t i, std::size_t j, std::size_t length,
                         std::size_t at) {
                    kernels.output(products + at * g.filters + f0, point_stride(size, g.filters),
                                   f1 - f0, g.filters, length, g.bias.data() + f0, part_then,
                                   out + sample * out_plane + i * out_row + j * g.filters + f0,
                                   out_row);
                });
            }
        };
        // Filters [f0, f1) of staged sample `sample` to the NCHW planes of sample b.
        const auto place = [&](const part_buffers& buffers, std::size_t sample, std::size_t b,
                               std::size_t f0, std::size_t f1) {
            const T* out = buffers.staged_output.data() + sample * out_plane + f0;
            T* planes = y.data() + (b * filters + f0) * oh * ow;
            positions_to_planes(out, out_row, g.filters, f1 - f0, oh, ow, planes);
        };
        if (sample_parts_ > 1 && s[0] == 1 && !gradient) {
            // One sample: each part stages and transforms it, and computes its vectors of
            // filters (each reads its share of the transformed filters, which the products
            // of one sample's few tiles wait on; a split of the tiles measured no faster).
            const std::size_t lanes = kernels_->lanes;
            const detail::partition vectors(g.filters / lanes, 1, sample_parts_);
            sample_threads_ = vectors.parts;
            detail::parallel_for(
                vectors, [&](std::size_t first, std::size_t last, std::size_t part) {
                    part_buffers& buffers = parts_[part];
                    T* staged = buffers.staged_input.data();
                    stage_winograd(g, x, 0, 1, staged);
                    compute(buffers, staged, 0, tiles, first * lanes, last * lanes);
                    place(buffers, 0, 0, first * lanes, std::min(filters, last * lanes));
                });
            return;
        }
        detail::parallel_for(split_, [&](std::size_t first, std::size_t last, std::size_t part) {
            part_buffers& buffers = parts_[part];
            T* staged = (gradient ? buffers.staged_gradient : buffers.staged_input).data();
            for (std::size_t b0 = first; b0 < last; b0 += g.samples) {
                const std::size_t count = std::min(g.samples, last - b0);
                stage_winograd(g, x, b0, count, staged);
                compute(buffers, staged, 0, count * tiles, 0, g.filters);
                for (std::size_t b = 0; b < count; ++b) {
                    place(buffers, b, b0 + b, 0, filters);
                }
            }
        });
    }

    // Stages samples [b0, b0 + count) of x for plan g: positions of g.channels values, from
    // (g.top, g.left) of each sample's plane of g.height × g.width positions in `staged`.
    void stage_winograd(const winograd_geometry& g, const tensor<T, 4>& x, std::size_t b0,
                        std::size_t count, T* staged) const {
        const std::size_t channels = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
        const std::size_t row = g.width * g.channels, plane = g.height * row;
        for (std::size_t b = 0; b < count; ++b) {
            planes_to_positions(x.data() + (b0 + b) * channels * h * w, channels, h, w,
                                staged + b * plane + g.top * row + g.left * g.channels, row,
                                g.channels);
        }
    }

    // `channels` planes of h × w (NCHW) to positions of channels: channel c of position (i,
    // j) to to[i·row + j·stride + c]. By a vector of channels at a time, each plane read from
    // top to bottom, one stream per plane of the vector (row i of every plane in turn, 64-256
    // streams at once, had the transposes at 9 % of resnet18's inference on 224 × 224
    // images; this order made it 2-3 % faster).
    void planes_to_positions(const T* planes, std::size_t channels, std::size_t h, std::size_t w,
                             T* to, std::size_t row, std::size_t stride) const {
        const std::size_t lanes = kernels_->lanes;
        for (std::size_t c0 = 0; c0 < channels; c0 += lanes) {
            kernels_->transpose(planes + c0 * h * w, detail::runs::even(h * w),
                                std::min(lanes, channels - c0), h * w, to + c0, {w, row, stride});
        }
    }

    // The converse: positions of `channels` values (channel c of position (i, j) at
    // from[i·row + j·stride + c]) to NCHW planes of h × w, a vector of planes at a time.
    void positions_to_planes(const T* from, std::size_t row, std::size_t stride,
                             std::size_t channels, std::size_t h, std::size_t w, T* planes) const {
        const std::size_t lanes = kernels_->lanes;
        for (std::size_t c0 = 0; c0 < channels; c0 += lanes) {
            kernels_->transpose(from + c0, {w, row, stride}, h * w, std::min(lanes, channels - c0),
                                planes + c0 * h * w, detail::runs::even(h * w));
        }
    }
    // Calls run(b, i, j, length, at) for tiles [n0, n1) of a chunk (numbered sample by
    // sample, row by row), by runs within a row of tiles: `length` tiles of sample b from
    // output position (i, j), the first of them the block's `at`-th.
    template <class Run>
    static void tile_runs(const winograd_geometry& g, std::size_t n0, std::size_t n1, Run&& run) {
        const std::size_t tiles = g.rows * g.cols;
        for (std::size_t n = n0; n < n1;) {
            const std::size_t b = n / tiles, r = n % tiles / g.cols, c = n % g.cols;
            const std::size_t length = std::min(g.cols - c, n1 - n);
            run(b, g.tile * r, g.tile * c, length, n - n0);
            n += length;
        }
    }

    // The weight and bias gradients with the forward's plan, Winograd's forward transposed:
    // with V = Bᵀ d B a tile's transformed inputs and Δ = A δ Aᵀ its transformed output
    // gradients, the gradient of the transformed filters U is Σ Δ ⊙ V over the tiles (at
    // each of the 36 points a product, filters × tiles by tiles × channels, summed block by
    // block), and the weights' is Gᵀ (that sum) G. Each part (thread) into its own
    // gradients, added in order afterwards.
    void weight_gradient_winograd(const tensor<T, 4>& x, const tensor<T, 4>& dy) {
        const winograd_geometry& g = winograd_;
        const std::size_t filters = options_.out_channels, channels = options_.in_channels;
        const std::size_t oh = dy.shape()[2], ow = dy.shape()[3], positions = oh * ow;
        const std::size_t tiles = g.rows * g.cols, row = g.width * g.channels;
        const std::size_t plane = g.height * row, out_row = g.tile * g.cols * g.filters;
        const std::size_t out_plane = g.tile * g.rows * out_row;
        const detail::winograd_kernel_set& kernels = kernels_->winograd(g.tile);
        detail::parallel_for(split_, [&](std::size_t first, std::size_t last, std::size_t part) {
            part_buffers& buffers = parts_[part];
            T* dw = part == 0 ? weight_grad_.data() : buffers.weight_grad.data();
            T* db = part == 0 ? bias_grad_.data() : buffers.bias_grad.data();
            std::fill(db, db + bias_.size(), T(0));
            if (first == last) {
                std::fill(dw, dw + weight_.size(), T(0));
                return;
            }
            T* staged = buffers.staged_input.data();
            T* gradients = buffers.staged_output_gradient.data();
            T* v = buffers.transformed.data();
            T* d = buffers.products_by_point.data();
            T* sums = buffers.point_gradients.data();
            bool start = true;
            for (std::size_t b0 = first; b0 < last; b0 += g.samples) {
                const std::size_t count = std::min(g.samples, last - b0);
                stage_winograd(g, x, b0, count, staged);
                for (std::size_t b = 0; b < count; ++b) {
                    const T* planes = dy.data() + (b0 + b) * filters * positions;
                    planes_to_positions(planes, filters, oh, ow, gradients + b * out_plane, out_row,
                                        g.filters);
                    add_bias_gradient(planes, filters, positions, db);
                }
                const std::size_t total = count * tiles;
                for (std::size_t n0 = 0; n0 < total; n0 += g.block) {
                    const std::size_t n1 = std::min(total, n0 + g.block), size = n1 - n0;
                    tile_runs(g, n0, n1,
                              [&](std::size_t b, std::size_t i, std::size_t j, std::size_t length,
                                  std::size_t at) {
                                  kernels.input(staged + b * plane + i * row + j * g.channels, row,
                                                g.channels, length, v + at * g.channels,
                                                point_stride(size, g.channels));
                                  kernels.gradient(gradients + b * out_plane + i * out_row +
                                                       j * g.filters,
                                                   out_row, g.filters, length, d + at * g.filters,
                                                   point_stride(size, g.filters));
                              });
                    // The block's sums, each from zero, then added to the others'.
                    kernels.tile_sums(d, point_stride(size, g.filters), v,
                                      point_stride(size, g.channels), size, filters, g.filters,
                                      g.channels, !start, sums, g.filters * g.channels);
                    start = false;
                }
            }
            T* taps = buffers.tap_gradients.data();
            kernels.filter_gradient(sums, g.filters * g.channels, filters, g.channels, taps);
            for (std::size_t f = 0; f < filters; ++f) { // (filter, tap, channel) to dw's layout
                for (std::size_t c = 0; c < channels; ++c) {
                    for (std::size_t k = 0; k < 9; ++k) {
                        dw[(f * channels + c) * 9 + k] = taps[(f * 9 + k) * g.channels + c];
                    }
                }
            }
        });
    }

    // The weight and bias gradients (`weights`) and, where dx is not null, the input gradient,
    // by the direct kernels.
    void backward_direct(const tensor<T, 4>& x, const tensor<T, 4>& dy, tensor<T, 4>* dx,
                         bool weights) {
        const shape<4> s = dy.shape();
        const std::size_t filters = s[1], oh = s[2], ow = s[3];
        const std::size_t channels = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
        const direct_geometry& g = direct_;
        const std::size_t taps = offsets_.size();
        detail::parallel_for(split_, [&](std::size_t first, std::size_t last, std::size_t part) {
            part_buffers& buffers = parts_[part];
            T* dw = part == 0 ? weight_grad_.data() : buffers.weight_grad.data();
            T* db = part == 0 ? bias_grad_.data() : buffers.bias_grad.data();
            T* dw_t = buffers.weight_gradient.data(); // (taps, grad_channels), or empty
            if (weights) {
                std::fill(dw_t, dw_t + buffers.weight_gradient.size(), T(0));
                if (g.unfold) { // else the transpose of dw_t below writes all of dw
                    std::fill(dw, dw + weight_.size(), T(0));
                }
                std::fill(db, db + bias_.size(), T(0));
            }
            const std::size_t positions = oh * ow;
            for (std::size_t b0 = first; b0 < last; b0 += chunk_) {
                const std::size_t count = std::min(chunk_, last - b0);
                const T* chunk_gradient = dy.data() + b0 * filters * positions;
                if (weights && g.unfold) { // the output gradient read in place
                    const direct_input in = prepare_input(x, b0, count, buffers);
                    kernels_->row_weight_gradient(chunk_gradient, positions, filters * positions,
                                                  filters, in.values, in.sample, count, in.count,
                                                  in.offsets, taps, dw, taps,
                                                  options_.bias ? db : nullptr);
                }
                for (std::size_t b = 0; b < count && weights && !g.unfold; ++b) {
                    pad_input(x, b0 + b, buffers.padded.data() + b * g.sample);
                    const T* g_in = chunk_gradient + b * filters * positions;
                    T* g_out = buffers.output_gradient.data() + b * g.grad_sample;
                    // Position by position, channels innermost: a transpose by blocks of 16
                    // positions, whose rows stay in the L1 cache.
                    for (std::size_t p0 = 0; p0 < positions; p0 += 16) {
                        const std::size_t p1 = std::min(p0 + 16, positions);
                        for (std::size_t f = 0; f < filters; ++f) {
                            const T* plane = g_in + f * positions;
                            for (std::size_t p = p0; p < p1; ++p) {
                                g_out[p * g.grad_channels + f] = plane[p];
                            }
                        }
                    }
                    add_bias_gradient(g_in, filters, positions, db);
                }
                if (weights && !g.unfold) {
                    kernels_->weight_gradient(buffers.output_gradient.data(), g.grad_sample,
                                              g.grad_channels, buffers.padded.data(), g.sample,
                                              count, oh, ow, g.width, offsets_.data(), taps, dw_t);
                }
                if (dx == nullptr) {
                    continue;
                }
                // The input gradient: the chunk's output gradients padded by the taps' reach,
                // correlated phase by phase with the weights turned by 180°.
                const std::size_t padded_sample = filters * g.grad_height * g.grad_width;
                for (std::size_t b = 0; b < count; ++b) {
                    const T* g_in = dy.data() + (b0 + b) * filters * oh * ow;
                    T* padded = buffers.gradient_padded.data() + b * padded_sample;
                    for (std::size_t f = 0; f < filters; ++f) {
                        kernels_->copy_rows(
                            g_in + f * oh * ow, ow,
                            padded + (f * g.grad_height + g.grad_top) * g.grad_width + g.grad_left,
                            g.grad_width, oh, ow);
                    }
                }
                for (const gradient_phase& p : phases_) {
                    input_gradient(p, buffers, count, dx->data() + b0 * channels * h * w, h, w);
                }
            }
            if (weights && !g.unfold) { // dw = dw_tᵀ, by blocks of 16 x 16 in L1
                for (std::size_t f0 = 0; f0 < filters; f0 += 16) {
                    for (std::size_t k0 = 0; k0 < taps; k0 += 16) {
                        const std::size_t f1 = std::min(f0 + 16, filters);
                        const std::size_t k1 = std::min(k0 + 16, taps);
                        for (std::size_t f = f0; f < f1; ++f) {
                            for (std::size_t k = k0; k < k1; ++k) {
                                dw[f * taps + k] = dw_t[k * g.grad_channels + f];
                            }
                        }
                    }
                }
            }
        });
    }

    // One phase of the input gradient of `count` samples from their padded output gradients
    // (buffers.gradient_padded), into dx (`count` samples of (channels, h, w)): with stride 1
    // straight into dx's planes, else into buffers.phase_gradient, then to the phase's places
    // in dx (a phase no tap reaches gets zeros).
    void input_gradient(const gradient_phase& p, part_buffers& buffers, std::size_t count, T* dx,
                        std::size_t h, std::size_t w) const {
        const direct_geometry& g = direct_;
        const std::size_t channels = options_.in_channels, filters = options_.out_channels;
        const std::size_t sh = options_.stride.height, sw = options_.stride.width;
        const std::size_t plane = p.rows * p.cols;
        const std::size_t area = options_.kernel_size.height * options_.kernel_size.width;
        const bool direct = sh == 1 && sw == 1;
        T* sums = direct ? dx : buffers.phase_gradient.data();
        if (!p.taps.empty()) {
            kernels_->correlate(buffers.gradient_padded.data() + p.row0 * g.grad_width,
                                filters * g.grad_height * g.grad_width, count, p.offsets.data(),
                                p.offsets.size(), weight_.data(), area, p.weights.data(), channels,
                                nullptr, p.rows * g.grad_width, sums, plane, channels * plane,
                                p.places.view(), {});
        }
        if (direct) {
            return;
        }
        for (std::size_t n = 0; n < count * channels; ++n) {
            const T* from = sums + n * plane;
            T* to = dx + n * h * w + p.dx_row * w + p.dx_col;
            for (std::size_t a = 0; a < p.rows; ++a) {
                T* line = to + a * sh * w;
                for (std::size_t k = 0; k < p.cols; ++k) {
                    line[k * sw] = p.taps.empty() ? T(0) : from[a * p.cols + k];
                }
            }
        }
    }

    // The taps [first, last) of a kernel axis that read inside the input at output index i:
    // input index i·stride + tap·dilation - pad in [0, extent).
    static std::pair<std::size_t, std::size_t> taps_inside(std::size_t i, std::size_t stride,
                                                           std::size_t dilation, std::size_t pad,
                                                           std::size_t extent, std::size_t kernel) {
        const std::size_t at = i * stride; // tap 0 reads at - pad
        const std::size_t first = at < pad ? (pad - at + dilation - 1) / dilation : 0;
        const std::size_t last =
            extent + pad > at ? (extent + pad - at + dilation - 1) / dilation : 0;
        return {std::min(first, kernel), std::min(std::max(first, last), kernel)};
    }

    // For every output position of samples [b0, b0 + n), in the order of unfold's rows (each
    // `taps` values of `rows`), and each row of taps (c, u) of it in turn: visit(part, v0, v1,
    // at), where `part` is that row's kw values and the taps v in [v0, v1) read inside the
    // input, tap v at offset at + (v - v0)·dilation of x or dx (the others read the padding).
    // Row by row, each row's values in order: a tap-major loop's stores (or loads), K values
    // apart, each missed the cache (1.3 ms of a 256 → 256 layer's 2.3 ms forward on 4 × 4
    // planes at batch 8, Zen 5).
    template <class Value, class Visit>
    void positions_of(const shape<4>& in, const shape<4>& s, std::size_t b0, std::size_t n,
                      Value* rows, std::size_t taps, Visit visit) const {
        const auto& o = options_;
        const std::size_t oh = s[2], ow = s[3];
        const std::size_t channels = in[1], h = in[2], w = in[3];
        const std::size_t kh = o.kernel_size.height, kw = o.kernel_size.width;
        for (std::size_t b = 0; b < n; ++b) {
            const std::size_t sample = (b0 + b) * channels * h * w;
            for (std::size_t i = 0; i < oh; ++i) {
                const auto [u0, u1] =
                    taps_inside(i, o.stride.height, o.dilation.height, pad_top_, h, kh);
                for (std::size_t j = 0; j < ow; ++j, rows += taps) {
                    const auto [v0, v1] =
                        taps_inside(j, o.stride.width, o.dilation.width, pad_left_, w, kw);
                    // Tap (u, v0)'s input column and row u0's input row (both inside).
                    const std::size_t column =
                        j * o.stride.width + v0 * o.dilation.width - (v1 > v0 ? pad_left_ : 0);
                    const std::size_t row0 =
                        i * o.stride.height + u0 * o.dilation.height - (u1 > u0 ? pad_top_ : 0);
                    Value* row = rows;
                    for (std::size_t c = 0; c < channels; ++c) {
                        for (std::size_t u = 0; u < kh; ++u, row += kw) {
                            const bool in_row = u >= u0 && u < u1;
                            const std::size_t at =
                                in_row
                                    ? sample + (c * h + row0 + (u - u0) * o.dilation.height) * w +
                                          column
                                    : 0;
                            visit(row, in_row ? v0 : kw, in_row ? v1 : kw, at);
                        }
                    }
                }
            }
        }
    }

    // im2col into `columns`, one row per output position: row (b, i, j), column (c, u, v) =
    // x[b0 + b, c, i·sh - pt + u·dh, j·sw - pl + v·dw] (0 outside the input).
    void unfold(const tensor<T, 4>& x, const shape<4>& s, std::size_t b0, std::size_t n,
                tensor<T, 2>& columns) const {
        const std::size_t kw = options_.kernel_size.width, dw = options_.dilation.width;
        const T* in = x.data();
        positions_of(x.shape(), s, b0, n, columns.data(), columns.shape()[1],
                     [&](T* row, std::size_t v0, std::size_t v1, std::size_t at) {
                         std::fill(row, row + v0, T(0));
                         for (std::size_t v = v0; v < v1; ++v) {
                             row[v] = in[at + (v - v0) * dw];
                         }
                         std::fill(row + v1, row + kw, T(0));
                     });
    }

    // col2im: dx += Σ over the taps of `column_gradient` (unfold's layout) placed back where
    // unfold read them, for the samples [b0, b0 + n).
    void fold(tensor<T, 4>& dx, const shape<4>& s, std::size_t b0, std::size_t n,
              const tensor<T, 2>& column_gradient) const {
        const std::size_t dw = options_.dilation.width;
        T* out = dx.data();
        positions_of(dx.shape(), s, b0, n, column_gradient.data(), column_gradient.shape()[1],
                     [&](const T* row, std::size_t v0, std::size_t v1, std::size_t at) {
                         for (std::size_t v = v0; v < v1; ++v) {
                             out[at + (v - v0) * dw] += row[v];
                         }
                     });
    }

    conv2d_options options_;
    std::size_t pad_top_ = 0, pad_bottom_ = 0, pad_left_ = 0, pad_right_ = 0;
    tensor<T, 4> weight_, weight_grad_;
    tensor<T, 1> bias_, bias_grad_;
    // What each part (thread) of the batch has of its own.
    struct part_buffers {
        tensor<T, 2> columns;         // one chunk of the unfolded input (chunk·positions, K)
        tensor<T, 2> column_gradient; // its gradient, in backward
        tensor<T, 2> products;        // the chunk's outputs or their gradients (filters, cols)
        tensor<T, 4> weight_grad;     // the part's dW (parts after the first)
        tensor<T, 1> bias_grad;       // the part's db (parts after the first)
        // The direct kernels' (see size_direct), and the input shapes they were zeroed for
        // (padded's, the others').
        tensor<T, 1> padded, output_gradient, gradient_padded, weight_gradient, phase_gradient;
        tensor<T, 1> unfolded; // a chunk's inputs unfolded, for few taps (see unfold_taps)
        tensor<T, 1> packed, packed_output; // small planes' packed positions (forward_packed)
        shape<4> padded_shape{}, direct_shape{};
        // Winograd's (see plan_winograd): a chunk's inputs (the forward's, the input
        // gradient's output gradients), positions of channels with their padding, and the
        // input shapes they were zeroed for; a block's transformed inputs and their products;
        // the chunk's outputs, positions of filters.
        tensor<T, 1> staged_input, staged_gradient, transformed, products_by_point, staged_output;
        shape<4> staged_shape{}, gradient_staged_shape{};
        // The Winograd weight gradient's (see size_winograd), and the output shape the output
        // gradients' buffer was zeroed for.
        tensor<T, 1> staged_output_gradient, point_gradients, tap_gradients;
        shape<4> output_gradient_shape{};
    };
    // The direct kernels' geometry (see size_direct).
    struct direct_geometry {
        std::size_t height = 0, width = 0;         // of a padded input plane
        std::size_t sample = 0;                    // values of a padded input sample
        std::size_t vectors = 0;                   // vectors of output positions (rows of `width`)
        std::size_t filters = 0;                   // filters rounded up to conv_channel_block
        bool unfold = false;                       // few taps: the input unfolded (see place_taps)
        std::size_t unfolded = 0;                  // values of a sample's unfolded input
        std::size_t out_height = 0, out_width = 0; // of an output plane
        std::size_t grad_channels = 0;             // filters rounded up, in output_gradient
        std::size_t grad_sample = 0; // values of a sample's output gradient, rearranged
        std::size_t grad_height = 0, grad_width = 0; // of a padded output gradient plane
        std::size_t grad_top = 0, grad_left = 0;     // where the output gradient starts in it
        std::size_t phases = 1;      // phase planes of the stride stored per channel
        std::size_t phase_plane = 0; // values of the input gradient's largest phase, stride > 1
    };
    // One phase of the stride in the input gradient (see size_direct): the input rows
    // a·sh + rho - pad_top for a in [row0, row0 + rows), likewise columns, from dx_row and
    // dx_col on; the taps (u·kw + v) of that phase, their offsets per filter, where their
    // weights are (in weight_, from an input channel's first) and where the sums go.
    struct gradient_phase {
        std::size_t rho = 0, sigma = 0; // the phase
        std::size_t slot = 0;           // its plane in the padded input, or no_slot (no tap)
        std::size_t row0 = 0, rows = 0, col0 = 0, cols = 0, dx_row = 0, dx_col = 0;
        std::vector<std::size_t> taps, offsets, weights;
        detail::compaction_table places;
    };
    static constexpr std::size_t no_slot = static_cast<std::size_t>(-1);
    // A Winograd correlation's plan (see plan_winograd).
    struct winograd_geometry {
        std::size_t top = 0, left = 0;         // the input's padding
        std::size_t tile = 0;                  // m of F(m × m, 3 × 3): 4 or 2
        std::size_t rows = 0, cols = 0;        // tiles of m × m outputs in a sample's plane
        std::size_t height = 0, width = 0;     // of the staged input: m·rows + 2, m·cols + 2
        std::size_t channels = 0, filters = 0; // rounded up to a vector
        std::size_t block = 0;                 // tiles whose products run together
        std::size_t samples = 0;               // staged together
        // The weights as (channel, tap, filter), their transforms (point, channel, filter)
        // and the weights they were computed from; bias and epilogue padded to the filters.
        tensor<T, 1> taps, transformed_filters, weights, bias, scale, shift;
        std::size_t points() const { return (tile + 2) * (tile + 2); }
    };
    winograd_geometry winograd_, gradient_winograd_; // the forward's, the input gradient's
    bool winograd_gradient_ = false;                 // the input gradient by Winograd
    bool winograd_weights_ = false;                  // the weight gradient by Winograd
    conv_algorithm ran_ = conv_algorithm::automatic; // by the last forward
    const detail::kernel_set* kernels_ = nullptr;    // null: unfold
    direct_geometry direct_;
    detail::compaction_table output_places_;      // where correlate's sums go
    std::vector<std::size_t> offsets_, in_order_; // the forward's taps, and 0, 1, 2…
    std::vector<std::size_t> unfolded_offsets_;   // the taps in the unfolded input
    std::vector<std::size_t> unfold_sources_;     // where each unfolded copy starts, padded
    std::vector<gradient_phase> phases_;          // of the input gradient
    std::size_t packed_span_ = 0;                 // positions a packed row holds (0: not packed)
    tensor<T, 1> padded_bias_;
    std::vector<part_buffers> parts_;
    detail::partition split_;               // the batch over the parts, of the last forward
    std::size_t sample_parts_ = 1;          // threads for a single sample (size_buffers)
    std::size_t sample_threads_ = 1;        // those that computed it (sample_threads())
    std::size_t chunk_ = 0;                 // samples per chunk (0 before the first forward)
    shape<4> input_shape_{};                // of the last forward
    std::array<std::size_t, 4> geometry_{}; // (channels, H, W, lanes) of offsets_ and phases_
};

} // namespace xtnn
