/// @file
/// Pooling over NCHW images: max_pool2d, avg_pool2d and global_avg_pool2d, as PyTorch's.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <xtnn/activations/relu.hpp>
#include <xtnn/core/concepts.hpp>
#include <xtnn/core/cpu.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/detail/kernels.hpp>
#include <xtnn/layers/extent2.hpp>

namespace xtnn {

template <std::floating_point T, std::size_t N>
class max_pool2d_layer;
template <std::floating_point T, std::size_t N>
class avg_pool2d_layer;
template <std::floating_point T, std::size_t N>
class global_avg_pool2d_layer;

/// Max pooling spec, PyTorch's MaxPool2d: `xtnn::max_pool2d{2}` halves the height and width.
/// @ingroup layers
struct max_pool2d {
    /// The layer this spec becomes after a rank-4 layer with scalar `T`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = max_pool2d_layer<T, N>;
    static constexpr std::string_view name = "max_pool2d"; ///< The name in summaries.
    static constexpr bool splits_batch = true; ///< Over xtnn's threads (xtnn::num_threads).
    extent2 kernel_size = 2;                   ///< The window, (kh, kw).
    extent2 stride{0};  ///< Steps between windows; 0: the kernel size (PyTorch's None).
    extent2 padding{0}; ///< Implicit -∞ around the input, at most half the kernel.

    /// What a description records: `max_pool2d(kernel_size=…, stride=…, padding=…)`, the stride
    /// resolved (a layer's options() never holds 0).
    static constexpr auto fields() {
        return std::tuple{field("kernel_size", &max_pool2d::kernel_size),
                          field("stride", &max_pool2d::stride),
                          field("padding", &max_pool2d::padding)};
    }
};

/// Average pooling spec, PyTorch's AvgPool2d: `xtnn::avg_pool2d{2}`.
/// @ingroup layers
struct avg_pool2d {
    /// The layer this spec becomes after a rank-4 layer with scalar `T`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = avg_pool2d_layer<T, N>;
    static constexpr std::string_view name = "avg_pool2d"; ///< The name in summaries.
    extent2 kernel_size = 2;                               ///< The window, (kh, kw).
    extent2 stride{0};             ///< Steps between windows; 0: the kernel size (PyTorch's None).
    extent2 padding{0};            ///< Zeros around the input, at most half the kernel.
    bool count_include_pad = true; ///< Divide by the whole window (PyTorch's default).

    /// What a description records: `avg_pool2d(kernel_size=…, stride=…, padding=…,
    /// count_include_pad=…)`, the stride resolved.
    static constexpr auto fields() {
        return std::tuple{field("kernel_size", &avg_pool2d::kernel_size),
                          field("stride", &avg_pool2d::stride),
                          field("padding", &avg_pool2d::padding),
                          field("count_include_pad", &avg_pool2d::count_include_pad)};
    }
};

/// Global average pooling spec: `(batch, channels, H, W)` -> `(batch, channels)`, the mean of
/// each channel (Keras' GlobalAveragePooling2D; in PyTorch `AdaptiveAvgPool2d(1)` then
/// `Flatten()`), so a dense layer can follow directly.
/// @ingroup layers
struct global_avg_pool2d {
    /// The layer this spec becomes after a rank-4 layer with scalar `T`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = global_avg_pool2d_layer<T, N>;
    static constexpr std::string_view name = "global_avg_pool2d"; ///< The name in summaries.
    static constexpr bool independent_samples = true; ///< See xtnn::independent_samples.
};

namespace detail {

/// What max and average pooling share: the window's geometry and the output shape.
class pool_window {
  public:
    template <class Spec>
    explicit pool_window(const Spec& spec, std::string_view name)
        : name_(name), kernel_(spec.kernel_size),
          stride_(spec.stride.height == 0 && spec.stride.width == 0 ? spec.kernel_size
                                                                    : spec.stride),
          padding_(spec.padding) {
        const std::string where(name);
        require_option(kernel_.height > 0 && kernel_.width > 0, where, "kernel_size",
                       "> 0 both ways", 0.0);
        require_option(stride_.height > 0 && stride_.width > 0, where, "stride",
                       "> 0 both ways (or 0 both ways: the kernel size)", 0.0);
        if (2 * padding_.height > kernel_.height || 2 * padding_.width > kernel_.width) {
            throw config_error(where +
                               ": padding must be at most half the kernel size (as "
                               "PyTorch's); got padding (" +
                               std::to_string(padding_.height) + ", " +
                               std::to_string(padding_.width) + ") for kernel (" +
                               std::to_string(kernel_.height) + ", " +
                               std::to_string(kernel_.width) + ")");
        }
    }

    /// `(batch, channels, H, W)` -> `(batch, channels, OH, OW)`.
    /// @throws shape_error if the window does not fit the padded input.
    shape<4> output_shape(const shape<4>& input) const {
        if (input[2] == 0 || input[3] == 0) {
            throw shape_error(std::string(name_) +
                              "::forward: the images are empty, there is nothing to pool; got "
                              "input " +
                              format_shape(input));
        }
        const std::size_t padded_h = input[2] + 2 * padding_.height;
        const std::size_t padded_w = input[3] + 2 * padding_.width;
        if (padded_h < kernel_.height || padded_w < kernel_.width) {
            throw shape_error(mismatch_message(
                std::string(name_) + "::forward",
                "the window is larger than the padded input, so pooling leaves nothing; padded "
                "input (height, width) at least",
                "(" + std::to_string(kernel_.height) + ", " + std::to_string(kernel_.width) + ")",
                "(" + std::to_string(padded_h) + ", " + std::to_string(padded_w) + ") from input " +
                    format_shape(input)));
        }
        return {input[0], input[1], (padded_h - kernel_.height) / stride_.height + 1,
                (padded_w - kernel_.width) / stride_.width + 1};
    }

    /// The rows (or columns) [first, last) of the input that a window reads.
    struct range {
        std::size_t first, last;
    };
    /// The input rows that output row `o` reads.
    range rows(std::size_t o, std::size_t extent) const {
        return clip(o * stride_.height, padding_.height, kernel_.height, extent);
    }
    /// The input columns that output column `o` reads.
    range columns(std::size_t o, std::size_t extent) const {
        return clip(o * stride_.width, padding_.width, kernel_.width, extent);
    }
    std::size_t window_size() const { return kernel_.height * kernel_.width; }
    /// The window's extents.
    extent2 kernel() const { return kernel_; }
    /// The steps between windows.
    extent2 stride() const { return stride_; }
    /// The implicit padding.
    extent2 padding() const { return padding_; }
    /// `spec` with the stride resolved (the kernel size for 0).
    template <class Spec>
    Spec resolved(Spec spec) const {
        spec.stride = stride_;
        return spec;
    }
    /// Whether no window reaches into padding (then every window is whole).
    bool unpadded() const { return padding_.height == 0 && padding_.width == 0; }

  private:
    static range clip(std::size_t start, std::size_t pad, std::size_t k, std::size_t extent) {
        // padded [start, start + k) is input [start - pad, start + k - pad)
        const std::size_t first = start > pad ? start - pad : 0;
        const std::size_t last = std::min(extent, start + k > pad ? start + k - pad : 0);
        return {std::min(first, last), last};
    }

    std::string_view name_;
    extent2 kernel_, stride_, padding_;
};

} // namespace detail

/// Max pooling over NCHW images, exactly as PyTorch's MaxPool2d (no dilation, floor mode):
/// each output is the largest input in its window (padding never wins; NaN propagates); the
/// gradient goes to that input alone (the first one on ties).
///
/// A relu just before it runs inside it (xtnn::absorbs_activation): sequential pools the
/// relu's input and rectifies the maxima, a quarter of the values for 2 × 2 windows, with the
/// same outputs and gradients as the two layers apart.
/// @tparam T the scalar type. @tparam N the rank: 4 (another fails to compile with a sentence).
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 4>
class max_pool2d_layer : public layer_base<max_pool2d_layer<T, N>, T, N, N> {
  public:
    static constexpr std::string_view name = "max_pool2d"; ///< The name in summaries.
    static constexpr bool independent_samples = true;      ///< See xtnn::independent_samples.
    static constexpr bool trains_by_samples = true;        ///< See xtnn::trains_by_samples.
    using options_type = max_pool2d;                       ///< What it is built from.

    /// A layer with the spec's window.
    /// @throws config_error for a zero kernel or stride, or padding over half the kernel.
    explicit max_pool2d_layer(max_pool2d spec = {})
        : window_(spec, name), spec_(window_.resolved(spec)) {
        static_assert(N == 4, "xtnn: max_pool2d takes rank 4 (batch, channels, height, width), "
                              "and the layer before gives another rank");
    }

    /// The window, its stride resolved (what a description records).
    const max_pool2d& options() const { return spec_; }

    /// The activations that may run after the pooling instead of before it (see
    /// xtnn::absorbs_activation): relu, as relu(max(a, b)) = max(relu(a), relu(b)), the
    /// first winner the same, NaN the same; its derivative, 0 or 1, is taken at the winner.
    template <class A>
    static constexpr bool absorbs_before = std::same_as<A, relu>;

    /// `(batch, channels, H, W)` -> `(batch, channels, OH, OW)`.
    /// @throws shape_error for images of more than 2^32 values (one channel of one image).
    shape<N> output_shape(const shape<N>& input) const {
        if (input[2] * input[3] > std::numeric_limits<index>::max()) {
            throw shape_error("max_pool2d::forward: an image (height x width) must hold at "
                              "most 2^32 - 1 values; got input " +
                              format_shape(input));
        }
        return window_.output_shape(input);
    }

  private:
    friend layer_access;

    // Where a window's maximum is: its index in its image (channel of one sample).
    using index = std::uint32_t;

    // The activation that runs on each maximum: none, or the absorbed one.
    struct unchanged {
        T value(T v) const { return v; }
    };

    /// The maximum of each window; in training, remembers where it was for backward.
    void compute_forward(const tensor<T, N>& x, tensor<T, N>& y, mode m) {
        pool(unchanged{}, x, y, m);
    }

    /// `y = pool(a(x))`, computed as `a(pool(x))`.
    template <class A>
    void compute_forward_after(const A& a, const tensor<T, N>& x, tensor<T, N>& y, mode m) {
        pool(a, x, y, m);
    }

    /// dx: each dy to the input that won its window (sums where windows overlap).
    void compute_backward(const tensor<T, N>& x, const tensor<T, N>& y, const tensor<T, N>& dy,
                          tensor<T, N>* dx) const {
        unpool(unchanged{}, x, y, dy, dx);
    }

    /// dx through the pooling and then `a`, whose derivative is taken at each winner.
    template <class A>
    void compute_backward_after(const A& a, const tensor<T, N>& x, const tensor<T, N>& y,
                                const tensor<T, N>& dy, tensor<T, N>* dx) const {
        unpool(a, x, y, dy, dx);
    }

    template <class A>
    void pool(const A& a, const tensor<T, N>& x, tensor<T, N>& y, mode m) {
        const bool record = m == mode::training;
        recorded_ = false;
        if (record && winners_.size() != y.size()) {
            winners_.resize(y.size());
        }
        const extent2 k = window_.kernel();
        const std::size_t w = x.shape()[3];
        if (columns_.size() != y.shape()[3]) {
            columns_.resize(y.shape()[3]);
        }
        for (std::size_t j = 0; j < columns_.size(); ++j) {
            columns_[j] = window_.columns(j, w);
        }
        const extent2 st = window_.stride();
        const detail::kernel_set* kernels = nullptr;
        if constexpr (std::same_as<T, float> &&
                      (std::same_as<A, unchanged> || std::same_as<A, relu>)) {
            kernels =
                st.height == 2 && st.width == 2 ? detail::simd_kernels(active_simd()) : nullptr;
        }
        const std::size_t ow = y.shape()[3];
        // Planes (image, channel) split over the threads.
        detail::parallel_for(plane_split(x.shape()),
                             [&](std::size_t first, std::size_t last, std::size_t) {
                                 if (kernels != nullptr) {
                                     vector_stride2(*kernels, a, x, y, record, first, last);
                                 } else if (window_.unpadded() && k.height == 2 && k.width == 2) {
                                     record ? whole_windows<true, 2, 2>(a, x, y, first, last)
                                            : whole_windows<false, 2, 2>(a, x, y, first, last);
                                 } else if (window_.unpadded()) {
                                     record ? whole_windows<true, 0, 0>(a, x, y, first, last)
                                            : whole_windows<false, 0, 0>(a, x, y, first, last);
                                 } else {
                                     record ? padded_windows<true>(a, x, y, first, last, 0, ow)
                                            : padded_windows<false>(a, x, y, first, last, 0, ow);
                                 }
                             });
        input_shape_ = x.shape();
        recorded_ = record;
    }

    // dx = d(pool then a)/dx · dy: plane by plane (a plane is in L1 while it is filled), zeros,
    // then each gradient added to its winner, `a`'s derivative taken there; 2 × 2 windows of
    // floats (unchanged or rectified) by the vector kernel, which writes each value once, with
    // the same bits (relu's derivative from y, the rectified maximum: y > 0 where x > 0).
    template <class A>
    void unpool(const A& a, const tensor<T, N>& x, const tensor<T, N>& y, const tensor<T, N>& dy,
                tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        if (!recorded_ || input_shape_ != x.shape() || winners_.size() != dy.size()) {
            throw std::logic_error("max_pool2d::backward: no forward in training mode ran for "
                                   "input shape " +
                                   format_shape(x.shape()));
        }
        const std::size_t area = x.shape()[2] * x.shape()[3];
        const std::size_t outputs = dy.shape()[2] * dy.shape()[3];
        const detail::kernel_set* kernels = nullptr;
        if constexpr (std::same_as<T, float> &&
                      (std::same_as<A, unchanged> || std::same_as<A, relu>)) {
            const extent2 k = window_.kernel(), st = window_.stride();
            const bool halves = window_.unpadded() && k.height == 2 && k.width == 2 &&
                                st.height == 2 && st.width == 2;
            kernels = halves ? detail::simd_kernels(active_simd()) : nullptr;
        }
        detail::parallel_for(
            plane_split(x.shape()), [&](std::size_t first, std::size_t last, std::size_t) {
                if (kernels != nullptr) { // writes every value of each plane
                    vector_unpool(*kernels, std::same_as<A, relu>, x, y, dy, *dx, first, last);
                    return;
                }
                for (std::size_t plane = first; plane < last; ++plane) {
                    const T* in = x.data() + plane * area;
                    T* image = dx->data() + plane * area;
                    const T* g = dy.data() + plane * outputs;
                    const index* won = winners_.data() + plane * outputs;
                    std::fill(image, image + area, T(0));
                    for (std::size_t o = 0; o < outputs; ++o) {
                        const std::size_t p = won[o];
                        if constexpr (std::same_as<A, unchanged>) {
                            (void)in;
                            image[p] += g[o];
                        } else {
                            image[p] += g[o] * a.derivative(in[p], a.value(in[p]));
                        }
                    }
                }
            });
    }

    // The planes [first, last) of dx by the vector kernel of 2 × 2 windows (floats only).
    void vector_unpool(const detail::kernel_set& kernels, bool rectify, const tensor<T, N>& x,
                       const tensor<T, N>& y, const tensor<T, N>& dy, tensor<T, N>& dx,
                       std::size_t first, std::size_t last) const {
        if constexpr (std::same_as<T, float>) {
            const std::size_t h = x.shape()[2], w = x.shape()[3];
            const std::size_t oh = dy.shape()[2], ow = dy.shape()[3];
            for (std::size_t plane = first; plane < last; ++plane) {
                kernels.max_unpool_2x2(
                    dy.data() + plane * oh * ow, winners_.data() + plane * oh * ow,
                    y.data() + plane * oh * ow, rectify, oh, ow, dx.data() + plane * h * w, h, w);
            }
        } else {
            (void)kernels, (void)rectify, (void)x, (void)y, (void)dy, (void)dx, (void)first,
                (void)last;
        }
    }

    // Planes (image, channel) over the threads, at least 2^11 input values per part: a
    // loop's start costs about a microsecond (the team polls between loops), and for one
    // image each thread then pools the planes that its part of the convolution before wrote
    // (which split its filters): the Keras convnet's single-image latency on two threads
    // fell from 53-61 µs to 37-39 µs, the planes no longer crossing between the cores.
    static detail::partition plane_split(const shape<N>& input) {
        const std::size_t area = std::max<std::size_t>(input[2] * input[3], 1);
        return {input[0] * input[1], (std::size_t{1} << 11) / area + 1, num_threads()};
    }

    // The forward of unpadded windows, KH × KW when known at compile time (0: the window's).
    template <bool Record, std::size_t KH, std::size_t KW, class A>
    void whole_windows(const A& a, const tensor<T, N>& x, tensor<T, N>& y, std::size_t first,
                       std::size_t last) {
        const extent2 k = window_.kernel(), st = window_.stride();
        const std::size_t kh = KH != 0 ? KH : k.height, kw = KW != 0 ? KW : k.width;
        const std::size_t h = x.shape()[2], w = x.shape()[3];
        const std::size_t oh = y.shape()[2], ow = y.shape()[3];
        for (std::size_t plane = first; plane < last; ++plane) {
            const T* image = x.data() + plane * h * w;
            T* out = y.data() + plane * oh * ow;
            index* won = Record ? winners_.data() + plane * oh * ow : nullptr;
            for (std::size_t i = 0; i < oh; ++i) {
                for (std::size_t j = 0; j < ow; ++j) {
                    // Without data-dependent branches (ReLU outputs tie often, and a
                    // mispredicted branch per value costs more than the comparisons): the
                    // maximum first, then (in training) the first position holding it, found
                    // backwards.
                    const std::size_t corner = i * st.height * w + j * st.width;
                    T best = image[corner];
                    bool nan = false;
                    for (std::size_t u = 0; u < kh; ++u) {
                        for (std::size_t v = 0; v < kw; ++v) {
                            const T value = image[corner + u * w + v];
                            best = value > best ? value : best;
                            nan |= value != value; // not ||: no branch
                        }
                    }
                    std::size_t at = corner;
                    if constexpr (Record) {
                        for (std::size_t q = kh * kw; q-- > 0;) {
                            // at = hit ? p : at, as a mask (a select here becomes a branch)
                            const std::size_t p = corner + (q / kw) * w + q % kw;
                            const std::size_t hit = 0 - static_cast<std::size_t>(image[p] == best);
                            at ^= (at ^ p) & hit;
                        }
                    }
                    if (nan) { // rare: the first NaN wins, as PyTorch's
                        at = first_nan(image, corner, kh, kw, w);
                        best = image[at];
                    }
                    out[i * ow + j] = a.value(best);
                    if constexpr (Record) {
                        won[i * ow + j] = static_cast<index>(at);
                    }
                }
            }
        }
    }

    // Windows with stride 2 in float, by the vector kernel: the columns whose windows lie
    // inside the rows (all when unpadded), the others (padding at the ends of the rows) and a
    // plane with NaN by the scalar loop.
    template <class A>
    void vector_stride2(const detail::kernel_set& kernels, const A& a, const tensor<T, N>& x,
                        tensor<T, N>& y, bool record, std::size_t first, std::size_t last) {
        if constexpr (std::same_as<T, float>) {
            const std::size_t h = x.shape()[2], w = x.shape()[3];
            const std::size_t oh = y.shape()[2], ow = y.shape()[3];
            const extent2 k = window_.kernel(), pad = window_.padding();
            // Output column j's window starts at input column 2j - pad.width.
            const std::size_t inner_first = std::min(ow, (pad.width + 1) / 2);
            const std::size_t inner_last =
                w + pad.width < k.width
                    ? inner_first
                    : std::clamp((w + pad.width - k.width) / 2 + 1, inner_first, ow);
            const auto scalar = [&](std::size_t plane, std::size_t from, std::size_t to) {
                if (from < to) {
                    record ? padded_windows<true>(a, x, y, plane, plane + 1, from, to)
                           : padded_windows<false>(a, x, y, plane, plane + 1, from, to);
                }
            };
            for (std::size_t plane = first; plane < last; ++plane) {
                if (kernels.max_pool_stride2(x.data() + plane * h * w, h, w, k.height, k.width,
                                             pad.height, pad.width, oh, ow, inner_first, inner_last,
                                             std::same_as<A, relu>, y.data() + plane * oh * ow,
                                             record ? winners_.data() + plane * oh * ow
                                                    : nullptr)) {
                    scalar(plane, 0, inner_first);
                    scalar(plane, inner_last, ow);
                } else {
                    scalar(plane, 0, ow);
                }
            }
        } else {
            (void)kernels, (void)a, (void)x, (void)y, (void)record, (void)first, (void)last;
        }
    }

    // The position of the first NaN of the window at `corner` (there is one).
    static std::size_t first_nan(const T* image, std::size_t corner, std::size_t kh, std::size_t kw,
                                 std::size_t w) {
        for (std::size_t u = 0; u < kh; ++u) {
            for (std::size_t v = 0; v < kw; ++v) {
                if (std::isnan(image[corner + u * w + v])) {
                    return corner + u * w + v;
                }
            }
        }
        return corner;
    }

    // The forward with padding (which never wins), output columns [j0, j1): each window
    // clipped to the input.
    template <bool Record, class A>
    void padded_windows(const A& a, const tensor<T, N>& x, tensor<T, N>& y, std::size_t first,
                        std::size_t last, std::size_t j0, std::size_t j1) {
        const std::size_t h = x.shape()[2], w = x.shape()[3];
        const std::size_t oh = y.shape()[2], ow = y.shape()[3];
        for (std::size_t plane = first; plane < last; ++plane) {
            const T* image = x.data() + plane * h * w;
            for (std::size_t i = 0; i < oh; ++i) {
                const auto r = window_.rows(i, h);
                const std::size_t o = (plane * oh + i) * ow;
                for (std::size_t j = j0; j < j1; ++j) {
                    const auto c = columns_[j];
                    // Every window overlaps the input (padding is at most half the kernel).
                    std::size_t at_u = r.first, at_v = c.first;
                    T best = image[r.first * w + c.first];
                    for (std::size_t u = r.first; u < r.last; ++u) {
                        for (std::size_t v = c.first; v < c.last; ++v) {
                            const T value = image[u * w + v];
                            const bool take = value > best || (value != value && best == best);
                            best = take ? value : best;
                            at_u = take ? u : at_u;
                            at_v = take ? v : at_v;
                        }
                    }
                    y.data()[o + j] = a.value(best);
                    if constexpr (Record) {
                        winners_[o + j] = static_cast<index>(at_u * w + at_v);
                    }
                }
            }
        }
    }

    detail::pool_window window_;
    max_pool2d spec_;
    std::vector<index> winners_;                      // where each output's maximum is in its image
    std::vector<detail::pool_window::range> columns_; // the input columns of each output column
    shape<N> input_shape_{};
    bool recorded_ = false; // the last forward was in training mode
};

/// Average pooling over NCHW images, exactly as PyTorch's AvgPool2d (floor mode): each output
/// is the mean of its window, padding counted as zeros in the divisor unless
/// `count_include_pad` is false.
/// @tparam T the scalar type. @tparam N the rank: 4 (another fails to compile with a sentence).
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 4>
class avg_pool2d_layer : public layer_base<avg_pool2d_layer<T, N>, T, N, N> {
  public:
    static constexpr std::string_view name = "avg_pool2d"; ///< The name in summaries.
    static constexpr bool independent_samples = true;      ///< See xtnn::independent_samples.
    static constexpr bool trains_by_samples = true;        ///< See xtnn::trains_by_samples.
    using options_type = avg_pool2d;                       ///< What it is built from.

    /// A layer with the spec's window.
    /// @throws config_error for a zero kernel or stride, or padding over half the kernel.
    explicit avg_pool2d_layer(avg_pool2d spec = {})
        : window_(spec, name), spec_(window_.resolved(spec)),
          count_include_pad_(spec.count_include_pad) {
        static_assert(N == 4, "xtnn: avg_pool2d takes rank 4 (batch, channels, height, width), "
                              "and the layer before gives another rank");
    }

    /// The window, its stride resolved (what a description records).
    const avg_pool2d& options() const { return spec_; }

    /// `(batch, channels, H, W)` -> `(batch, channels, OH, OW)`.
    shape<N> output_shape(const shape<N>& input) const { return window_.output_shape(input); }

  private:
    friend layer_access;

    /// The mean of each window.
    void compute_forward(const tensor<T, N>& x, tensor<T, N>& y, mode) const {
        visit(x.shape(), y.shape(), [&](std::size_t plane, std::size_t o, auto r, auto c, T scale) {
            const T* image = x.data() + plane * x.shape()[2] * x.shape()[3];
            T sum = 0;
            for (std::size_t u = r.first; u < r.last; ++u) {
                for (std::size_t v = c.first; v < c.last; ++v) {
                    sum += image[u * x.shape()[3] + v];
                }
            }
            y.data()[o] = sum * scale;
        });
    }

    /// dx: each dy spread evenly over its window (sums where windows overlap).
    void compute_backward(const tensor<T, N>& x, const tensor<T, N>&, const tensor<T, N>& dy,
                          tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        dx->fill(T(0));
        visit(x.shape(), dy.shape(),
              [&](std::size_t plane, std::size_t o, auto r, auto c, T scale) {
                  T* image = dx->data() + plane * x.shape()[2] * x.shape()[3];
                  const T share = dy.data()[o] * scale;
                  for (std::size_t u = r.first; u < r.last; ++u) {
                      for (std::size_t v = c.first; v < c.last; ++v) {
                          image[u * x.shape()[3] + v] += share;
                      }
                  }
              });
    }

    // Calls f(plane, output index, rows, columns, 1 / divisor) for every output.
    template <class F>
    void visit(const shape<N>& in, const shape<N>& s, F&& f) const {
        const std::size_t h = in[2], w = in[3], oh = s[2], ow = s[3];
        const T whole = T(1) / static_cast<T>(window_.window_size());
        for (std::size_t plane = 0; plane < s[0] * s[1]; ++plane) {
            for (std::size_t i = 0; i < oh; ++i) {
                const auto r = window_.rows(i, h);
                for (std::size_t j = 0; j < ow; ++j) {
                    const auto c = window_.columns(j, w);
                    const std::size_t inside = (r.last - r.first) * (c.last - c.first);
                    const T scale =
                        count_include_pad_ || inside == 0 ? whole : T(1) / static_cast<T>(inside);
                    f(plane, (plane * oh + i) * ow + j, r, c, scale);
                }
            }
        }
    }

    detail::pool_window window_;
    avg_pool2d spec_;
    bool count_include_pad_;
};

/// Global average pooling: `(batch, channels, H, W)` -> `(batch, channels)`, each channel's
/// mean (see the global_avg_pool2d spec).
/// @tparam T the scalar type. @tparam N the rank: 4 (another fails to compile with a sentence).
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 4>
class global_avg_pool2d_layer : public layer_base<global_avg_pool2d_layer<T, N>, T, N, 2> {
  public:
    static constexpr std::string_view name = "global_avg_pool2d"; ///< The name in summaries.
    static constexpr bool independent_samples = true; ///< See xtnn::independent_samples.
    static constexpr bool trains_by_samples = true;   ///< See xtnn::trains_by_samples.

    /// The layer (it has no options).
    explicit global_avg_pool2d_layer(global_avg_pool2d = {}) {
        static_assert(N == 4, "xtnn: global_avg_pool2d takes rank 4 (batch, channels, height, "
                              "width), and the layer before gives another rank");
    }

    /// `(batch, channels, H, W)` -> `(batch, channels)`.
    /// @throws shape_error for an empty image (no values to average).
    shape<2> output_shape(const shape<N>& input) const {
        if (input[2] == 0 || input[3] == 0) {
            throw shape_error("global_avg_pool2d::forward: the images are empty, there is "
                              "nothing to average; got input " +
                              format_shape(input));
        }
        return {input[0], input[1]};
    }

  private:
    friend layer_access;

    /// Each channel's mean.
    void compute_forward(const tensor<T, N>& x, tensor<T, 2>& y, mode) const {
        const std::size_t area = x.shape()[2] * x.shape()[3];
        const T* in = x.data();
        for (std::size_t plane = 0; plane < y.size(); ++plane) {
            const T* image = in + plane * area;
            y.data()[plane] =
                detail::lane_sum<T>(area, [image](std::size_t p) { return image[p]; }) /
                static_cast<T>(area);
        }
    }

    /// dx: each dy spread evenly over its channel's image.
    void compute_backward(const tensor<T, N>& x, const tensor<T, 2>&, const tensor<T, 2>& dy,
                          tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        const std::size_t area = x.shape()[2] * x.shape()[3];
        T* d = dx->data();
        for (std::size_t plane = 0; plane < dy.size(); ++plane) {
            const T share = dy.data()[plane] / static_cast<T>(area);
            std::fill(d + plane * area, d + (plane + 1) * area, share);
        }
    }
};

} // namespace xtnn
