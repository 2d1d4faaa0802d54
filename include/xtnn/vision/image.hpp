/// @file
/// Gray images for the vision floor: colour and alpha to gray, resampling by area, and the
/// sliding-window extremes (grey-level dilation and erosion) that background estimation uses.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn::vision {

/// A grayscale image: `(height, width)` bytes, 0 black and 255 white.
/// @ingroup vision
using gray_image = tensor<std::uint8_t, 2>;

/// Converts decoded pixels `(height, width, channels)` to gray: 1 channel is gray already, 2 are
/// gray + alpha, 3 RGB, 4 RGBA. Colour becomes its luma (ITU-R BT.601: 0.299 R + 0.587 G +
/// 0.114 B, as libjpeg and libpng do); transparent pixels count as white paper (a drawing saved
/// with a transparent background is ink on paper, not ink on black).
/// @throws shape_error for an empty image or a channel count other than 1-4.
/// @code
/// xtnn::tensor<std::uint8_t, 3> rgba = ...;            // (h, w, 4) from a decoder
/// xtnn::vision::gray_image gray = xtnn::vision::to_gray(rgba);
/// @endcode
/// @ingroup vision
inline gray_image to_gray(const tensor<std::uint8_t, 3>& pixels) {
    const auto& s = pixels.shape();
    const std::size_t h = s[0], w = s[1], c = s[2];
    if (h == 0 || w == 0 || c == 0 || c > 4) {
        throw shape_error(detail::mismatch_message(
            "to_gray", "pixels must be a non-empty image of 1 to 4 channels",
            "(height, width, 1 | 2 | 3 | 4)", format_shape(s)));
    }
    gray_image gray(shape<2>{h, w});
    const std::uint8_t* in = pixels.data();
    std::uint8_t* out = gray.data();
    for (std::size_t i = 0; i < h * w; ++i, in += c) {
        // Luma in 16.16 fixed point (the weights sum to 65536), rounded.
        const std::uint32_t y =
            c >= 3 ? (19595U * in[0] + 38470U * in[1] + 7471U * in[2] + 32768U) >> 16 : in[0];
        const std::uint32_t alpha = c == 2 ? in[1] : c == 4 ? in[3] : 255U;
        out[i] = static_cast<std::uint8_t>((y * alpha + 255U * (255U - alpha) + 127U) / 255U);
    }
    return gray;
}

/// @cond XTNN_DETAIL
// Any other pixels: xtensor would convert them implicitly (another rank corrupts memory), so
// this exact match wins and names what to_gray takes.
template <class Pixels>
requires(!std::same_as<Pixels, tensor<std::uint8_t, 3>>) detail::rejected to_gray(const Pixels&) {
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: to_gray: takes", "pixels", pixels, Pixels, std::uint8_t, 3);
    return {};
}
/// @endcond

namespace detail {

/// Resamples a row-major `src` (bytes or floats) (sh × sw, row stride `src_stride`) to `dst` (dh ×
/// dw) by area: each destination pixel is the mean of the source area it covers (partly covered
/// source pixels count by their covered fraction). Shrinking this way anti-aliases as MNIST's own
/// scaling did; enlarging replicates pixels with blended edges.
template <class Source>
void resize_area(const Source* src, std::size_t sh, std::size_t sw, std::size_t src_stride,
                 float* dst, std::size_t dh, std::size_t dw) {
    // Separable: the weights of each destination column over source columns, then of rows.
    struct span_weights {
        std::size_t first = 0;
        std::vector<float> weights;
    };
    const auto weights_of = [](std::size_t n_src, std::size_t n_dst) {
        std::vector<span_weights> out(n_dst);
        const double step = static_cast<double>(n_src) / static_cast<double>(n_dst);
        for (std::size_t i = 0; i < n_dst; ++i) {
            const double a = static_cast<double>(i) * step, b = a + step;
            const auto first = static_cast<std::size_t>(a);
            const auto last = std::min(n_src - 1, static_cast<std::size_t>(std::ceil(b)) - 1);
            out[i].first = first;
            for (std::size_t j = first; j <= last; ++j) {
                const double lo = std::max(a, static_cast<double>(j));
                const double hi = std::min(b, static_cast<double>(j + 1));
                out[i].weights.push_back(static_cast<float>(std::max(0.0, hi - lo) / step));
            }
        }
        return out;
    };
    const auto columns = weights_of(sw, dw);
    const auto rows = weights_of(sh, dh);
    std::vector<float> horizontal(sh * dw);
    for (std::size_t y = 0; y < sh; ++y) {
        const Source* line = src + y * src_stride;
        for (std::size_t x = 0; x < dw; ++x) {
            float sum = 0;
            for (std::size_t k = 0; k < columns[x].weights.size(); ++k) {
                sum += columns[x].weights[k] * static_cast<float>(line[columns[x].first + k]);
            }
            horizontal[y * dw + x] = sum;
        }
    }
    for (std::size_t y = 0; y < dh; ++y) {
        for (std::size_t x = 0; x < dw; ++x) {
            float sum = 0;
            for (std::size_t k = 0; k < rows[y].weights.size(); ++k) {
                sum += rows[y].weights[k] * horizontal[(rows[y].first + k) * dw + x];
            }
            dst[y * dw + x] = sum;
        }
    }
}

/// out[i] = the extreme (by `better`: std::greater for the maximum) of in[i - r .. i + r] over
/// the line's elements `in[0], in[stride], …` (n of them), edges clamped; in place is allowed.
/// Van Herk / Gil-Werman: three comparisons per element whatever the window. `scratch` is
/// reused between calls.
template <class T, class Better>
void sliding_extreme(T* line, std::size_t n, std::size_t stride, std::size_t r, Better better,
                     std::vector<T>& scratch) {
    if (r == 0 || n == 0) {
        return;
    }
    const std::size_t k = 2 * r + 1;
    // The line padded by r copies of its end values on each side, then block prefix and
    // suffix extremes over blocks of k.
    const std::size_t padded = n + 2 * r;
    const std::size_t blocks = (padded + k - 1) / k;
    scratch.resize(3 * blocks * k);
    T* p = scratch.data();
    T* prefix = p + blocks * k;
    T* suffix = prefix + blocks * k;
    for (std::size_t i = 0; i < blocks * k; ++i) {
        const std::size_t j = i < r ? 0 : std::min(i - r, n - 1);
        p[i] = line[j * stride];
    }
    const auto pick = [&](T a, T b) { return better(a, b) ? a : b; };
    for (std::size_t b = 0; b < blocks; ++b) {
        const std::size_t s = b * k;
        prefix[s] = p[s];
        for (std::size_t i = 1; i < k; ++i) {
            prefix[s + i] = pick(prefix[s + i - 1], p[s + i]);
        }
        suffix[s + k - 1] = p[s + k - 1];
        for (std::size_t i = k - 1; i-- > 0;) {
            suffix[s + i] = pick(suffix[s + i + 1], p[s + i]);
        }
    }
    // The window of output i is p[i .. i + 2r]: suffix from its start, prefix to its end.
    for (std::size_t i = 0; i < n; ++i) {
        line[i * stride] = pick(suffix[i], prefix[i + 2 * r]);
    }
}

/// Grey-level dilation (`better` = std::greater) or erosion (std::less) of a row-major
/// `h × w` image by a square window of side 2r + 1, in place.
template <class T, class Better>
void square_extreme(T* image, std::size_t h, std::size_t w, std::size_t r, Better better) {
    std::vector<T> scratch;
    for (std::size_t y = 0; y < h; ++y) {
        sliding_extreme(image + y * w, w, 1, r, better, scratch);
    }
    for (std::size_t x = 0; x < w; ++x) {
        sliding_extreme(image + x, h, w, r, better, scratch);
    }
}

/// The mean over a square window of side 2r + 1 (edges clamped) of a row-major `h × w`
/// image, in place: running sums, two passes.
inline void box_blur(float* image, std::size_t h, std::size_t w, std::size_t r) {
    if (r == 0) {
        return;
    }
    std::vector<float> line;
    const auto blur_line = [&](float* first, std::size_t n, std::size_t stride) {
        line.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            line[i] = first[i * stride];
        }
        const auto at = [&](std::ptrdiff_t i) {
            return line[static_cast<std::size_t>(
                std::clamp<std::ptrdiff_t>(i, 0, static_cast<std::ptrdiff_t>(n) - 1))];
        };
        const auto radius = static_cast<std::ptrdiff_t>(r);
        double sum = 0;
        for (std::ptrdiff_t i = -radius; i <= radius; ++i) {
            sum += at(i);
        }
        const double k = 1.0 / static_cast<double>(2 * r + 1);
        for (std::size_t i = 0; i < n; ++i) {
            first[i * stride] = static_cast<float>(sum * k);
            const auto j = static_cast<std::ptrdiff_t>(i);
            sum += at(j + radius + 1) - at(j - radius);
        }
    };
    for (std::size_t y = 0; y < h; ++y) {
        blur_line(image + y * w, w, 1);
    }
    for (std::size_t x = 0; x < w; ++x) {
        blur_line(image + x, h, w);
    }
}

} // namespace detail

} // namespace xtnn::vision
