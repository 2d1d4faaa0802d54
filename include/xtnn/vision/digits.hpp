/// @file
/// From a photo, scan or drawing to MNIST-style digits: background removal, thresholding,
/// specks, segmentation of a row of digits, and MNIST's own normalization.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/vision/image.hpp>

namespace xtnn::vision {

/// A rectangle of an image, in its pixels.
/// @ingroup vision
struct box {
    std::size_t x = 0;      ///< The left column.
    std::size_t y = 0;      ///< The top row.
    std::size_t width = 0;  ///< Columns.
    std::size_t height = 0; ///< Rows.
    /// Equal when every field is.
    friend bool operator==(const box&, const box&) = default;
};

/// One digit found in an image.
/// @ingroup vision
struct found_digit {
    gray_image digit; ///< 28 × 28, light ink on black as in MNIST (0-255).
    box bounds;       ///< Where its ink is in the image.
    /// Other readings of the same ink, for a reader to choose by the model's confidence
    /// (read_number does): `halves` holds the two digits this one is when it is two touching
    /// digits (present when it is wider than tall), `joined` this digit and the next as
    /// one broken digit (present when they are close and together at most 1.4 times as wide as
    /// tall).
    std::vector<found_digit> halves;
    std::vector<found_digit> joined; ///< Empty, or this digit and the next one as one.
};

/// Why an image holds no digit or row of digits.
/// @ingroup vision
enum class no_digit_reason {
    nothing,         ///< No ink: blank paper, or marks too faint to tell from noise.
    too_many_marks,  ///< More separate marks than any row of digits has (text, a texture).
    too_many_digits, ///< More digits than digit_options::max_digits.
    several_rows     ///< Marks in more than one row (a page of text, a table).
};

/// The image holds no digit or row of digits; the message says what was found instead, and
/// reason() tells why for a program.
/// @ingroup vision
class no_digit_error : public std::runtime_error {
  public:
    /// The error with its reason and message.
    no_digit_error(no_digit_reason reason, const std::string& message)
        : std::runtime_error(message), reason_(reason) {}
    /// Why: see no_digit_reason.
    no_digit_reason reason() const noexcept { return reason_; }

  private:
    no_digit_reason reason_;
};

/// Options of find_digits(). The defaults read photos and scans of paper, drawings and
/// MNIST-like images; docs/mnist.md measures them.
/// @ingroup vision
struct digit_options {
    /// Larger images are first reduced by area so that their longer side is this many pixels:
    /// a digit needs far fewer, and reduction averages the sensor's noise away.
    std::size_t working_size = 1000;
    /// The least relative darkness of ink against the paper around it, in (0, 1): 0.12 means
    /// 12 % darker than the local paper. Fainter marks are paper.
    double min_contrast = 0.12;
    /// Marks smaller than this fraction of the largest mark's area are specks, in [0, 1).
    double speck_fraction = 0.04;
    /// More marks than this (after removing specks): not a digit or a number.
    std::size_t max_marks = 60;
    /// More digits than this in the row: not a number.
    std::size_t max_digits = 12;
    /// Strokes thinner than this in the 28 × 28 digit (MNIST's are 2-3 pixels) are thickened
    /// to it; 0 keeps every stroke as it is.
    double min_stroke = 2.0;
    /// Read all the ink as one digit, with no segmentation (a drawing pad of one digit).
    bool single_digit = false;
};

namespace detail {

/// A bounding box in working pixels: columns [x0, x1), rows [y0, y1); empty until it
/// includes a pixel.
struct extent {
    std::size_t x0 = static_cast<std::size_t>(-1), y0 = static_cast<std::size_t>(-1);
    std::size_t x1 = 0, y1 = 0;
    std::size_t width() const { return x1 - x0; }
    std::size_t height() const { return y1 - y0; }
    void include(std::size_t x, std::size_t y) { include(extent{x, y, x + 1, y + 1}); }
    void include(const extent& e) {
        x0 = std::min(x0, e.x0);
        y0 = std::min(y0, e.y0);
        x1 = std::max(x1, e.x1);
        y1 = std::max(y1, e.y1);
    }
};

/// A connected mark of ink: its pixel count and bounding box.
struct mark : extent {
    std::size_t area = 0;
};

/// A digit being assembled: the marks it holds and their bounding box.
struct digit_group : extent {
    std::vector<std::uint32_t> marks;
    std::size_t area = 0;
    /// Only the marks' pixels in the columns [from, to) belong (one half of touching digits).
    std::size_t from = 0, to = static_cast<std::size_t>(-1);
};

/// Whether each mark (by index) belongs to `g`.
inline std::vector<char> membership(const digit_group& g, std::size_t mark_count) {
    std::vector<char> in_group(mark_count, 0);
    for (const auto i : g.marks) {
        in_group[i] = 1;
    }
    return in_group;
}

inline std::size_t overlap(std::size_t a0, std::size_t a1, std::size_t b0, std::size_t b1) {
    const std::size_t lo = std::max(a0, b0), hi = std::min(a1, b1);
    return hi > lo ? hi - lo : 0;
}

/// Otsu's threshold of values in [0, 1]: the level that best splits them into two classes
/// (the largest between-class variance), from a 256-bin histogram.
inline float otsu_threshold(const std::vector<float>& values) {
    std::array<double, 256> histogram{};
    for (const float v : values) {
        histogram[static_cast<std::size_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f)] += 1;
    }
    const double total = static_cast<double>(values.size());
    double sum_all = 0;
    for (std::size_t i = 0; i < 256; ++i) {
        sum_all += static_cast<double>(i) * histogram[i];
    }
    double weight_low = 0, sum_low = 0, best = -1;
    std::size_t best_level = 0;
    for (std::size_t i = 0; i < 256; ++i) {
        weight_low += histogram[i];
        sum_low += static_cast<double>(i) * histogram[i];
        const double weight_high = total - weight_low;
        if (weight_low == 0 || weight_high == 0) {
            continue;
        }
        const double mean_low = sum_low / weight_low;
        const double mean_high = (sum_all - sum_low) / weight_high;
        const double between =
            weight_low * weight_high * (mean_low - mean_high) * (mean_low - mean_high);
        if (between > best) {
            best = between;
            best_level = i;
        }
    }
    return (static_cast<float>(best_level) + 0.5f) / 255.0f;
}

/// Labels the 8-connected marks of `mask` (h × w) from 1; 0 is paper. Returns the marks,
/// index = label - 1.
inline std::vector<mark> label_marks(const std::vector<std::uint8_t>& mask, std::size_t h,
                                     std::size_t w, std::vector<std::uint32_t>& labels) {
    labels.assign(h * w, 0);
    std::vector<std::uint32_t> parent{0};
    const auto find = [&](std::uint32_t a) {
        while (parent[a] != a) {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        return a;
    };
    const auto unite = [&](std::uint32_t a, std::uint32_t b) {
        a = find(a);
        b = find(b);
        if (a != b) {
            parent[std::max(a, b)] = std::min(a, b);
        }
    };
    for (std::size_t y = 0; y < h; ++y) {
        for (std::size_t x = 0; x < w; ++x) {
            if (mask[y * w + x] == 0) {
                continue;
            }
            // The neighbours already visited: left, and the three above.
            std::uint32_t label = 0;
            const auto join = [&](std::size_t yy, std::size_t xx) {
                const std::uint32_t other = labels[yy * w + xx];
                if (other == 0) {
                    return;
                }
                if (label == 0) {
                    label = other;
                } else {
                    unite(label, other);
                }
            };
            if (x > 0) {
                join(y, x - 1);
            }
            if (y > 0) {
                if (x > 0) {
                    join(y - 1, x - 1);
                }
                join(y - 1, x);
                if (x + 1 < w) {
                    join(y - 1, x + 1);
                }
            }
            if (label == 0) {
                label = static_cast<std::uint32_t>(parent.size());
                parent.push_back(label);
            }
            labels[y * w + x] = label;
        }
    }
    // Final labels 1..n in order of first appearance, and each mark's statistics.
    std::vector<std::uint32_t> final_label(parent.size(), 0);
    std::vector<mark> marks;
    for (std::size_t y = 0; y < h; ++y) {
        for (std::size_t x = 0; x < w; ++x) {
            std::uint32_t& l = labels[y * w + x];
            if (l == 0) {
                continue;
            }
            const std::uint32_t root = find(l);
            if (final_label[root] == 0) {
                marks.emplace_back();
                final_label[root] = static_cast<std::uint32_t>(marks.size());
            }
            l = final_label[root];
            mark& m = marks[l - 1];
            ++m.area;
            m.include(x, y);
        }
    }
    return marks;
}

inline void add_mark(digit_group& g, std::uint32_t index, const mark& m) {
    g.include(m);
    g.marks.push_back(index);
    g.area += m.area;
}

/// Groups marks into digits, left to right. Marks at least half as tall as the tallest are
/// strokes of their own digit; two of them join when stacked in the same columns (the halves
/// of a broken 8) or when one stands within the other's columns (the stem and loop of a 6). Shorter
/// marks are fragments (the bar of a 5, a 4 drawn in two strokes, a stroke cut by the threshold):
/// each joins the digit whose columns it shares most, or the nearest one within a quarter of the
/// row's height; failing that, a dot or dash (a decimal point, a date's separator) is dropped and
/// anything larger stands alone.
inline std::vector<digit_group> group_marks(const std::vector<mark>& marks,
                                            const std::vector<std::uint32_t>& kept) {
    std::size_t tallest = 0;
    for (const auto i : kept) {
        tallest = std::max(tallest, marks[i].height());
    }
    std::vector<std::uint32_t> strokes, fragments;
    for (const auto i : kept) {
        (2 * marks[i].height() >= tallest ? strokes : fragments).push_back(i);
    }
    const auto by_left = [&](std::uint32_t a, std::uint32_t b) {
        return marks[a].x0 < marks[b].x0;
    };
    std::sort(strokes.begin(), strokes.end(), by_left);
    std::vector<digit_group> groups;
    for (const auto i : strokes) {
        const mark& m = marks[i];
        digit_group* home = nullptr;
        for (auto& g : groups) {
            const std::size_t shared = overlap(m.x0, m.x1, g.x0, g.x1);
            const std::size_t stacked = overlap(m.y0, m.y1, g.y0, g.y1);
            const std::size_t narrower = std::min(m.width(), g.width());
            if ((2 * shared >= narrower && 10 * stacked <= 3 * std::min(m.height(), g.height())) ||
                10 * shared >= 7 * narrower) {
                home = &g;
            }
        }
        if (home == nullptr) {
            groups.emplace_back();
            home = &groups.back();
        }
        add_mark(*home, i, m);
    }
    std::vector<std::size_t> heights;
    for (const auto& g : groups) {
        heights.push_back(g.height());
    }
    std::sort(heights.begin(), heights.end());
    const std::size_t row = heights.empty() ? tallest : heights[heights.size() / 2];
    // Fragments join by the groups' extents before any fragment joined (order-free).
    const std::vector<digit_group> strokes_only = groups;
    std::vector<digit_group> alone;
    for (const auto i : fragments) {
        const mark& m = marks[i];
        std::size_t best = groups.size(), best_shared = 0, best_gap = row / 4 + 1;
        for (std::size_t g = 0; g < strokes_only.size(); ++g) {
            const auto& s = strokes_only[g];
            const std::size_t shared = overlap(m.x0, m.x1, s.x0, s.x1);
            const std::size_t gap = shared > 0 ? 0 : m.x0 >= s.x1 ? m.x0 - s.x1 : s.x0 - m.x1;
            if (shared > best_shared || (best_shared == 0 && shared == 0 && gap < best_gap)) {
                best = g;
                best_shared = shared;
                best_gap = gap;
            }
        }
        if (best < groups.size()) {
            add_mark(groups[best], i, m);
        } else if (10 * m.height() >= 3 * row || 10 * m.width() >= 4 * row) {
            digit_group g;
            add_mark(g, i, m);
            alone.push_back(std::move(g));
        }
    }
    groups.insert(groups.end(), alone.begin(), alone.end());
    std::sort(groups.begin(), groups.end(),
              [](const digit_group& a, const digit_group& b) { return a.x0 < b.x0; });
    return groups;
}

/// The sample at the `q` quantile (0-1) of `values` (reordered).
inline float quantile(std::vector<float>& values, double q) {
    const auto k = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
}

/// The working picture of an image: reduced, inverted to dark ink on light paper when the
/// ink is light, and divided by its estimated background, giving each pixel's ink strength
/// in [0, 1]: 0 is paper, 1 is black on white.
struct ink_map {
    std::size_t h = 0, w = 0;
    double scale = 1; ///< working pixels per image pixel
    std::vector<float> ink;
};

inline ink_map make_ink_map(const gray_image& image, const digit_options& options) {
    ink_map map;
    const std::size_t ih = image.shape(0), iw = image.shape(1);
    map.scale = std::min(1.0, static_cast<double>(options.working_size) /
                                  static_cast<double>(std::max(ih, iw)));
    map.h = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::lround(static_cast<double>(ih) * map.scale)));
    map.w = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::lround(static_cast<double>(iw) * map.scale)));
    std::vector<float> v(map.h * map.w);
    if (map.h == ih && map.w == iw) {
        std::transform(image.data(), image.data() + image.size(), v.begin(),
                       [](std::uint8_t p) { return static_cast<float>(p); });
    } else {
        resize_area(image.data(), ih, iw, iw, v.data(), map.h, map.w);
    }
    for (auto& p : v) {
        p /= 255.0f;
    }
    // Sensor noise and JPEG's blocks would pass for ink in dim light: a light blur first.
    box_blur(v.data(), map.h, map.w, std::max<std::size_t>(1, std::min(map.h, map.w) / 250));
    // Polarity: the paper is most of any neighbourhood, so ink stands out of the local mean on
    // one side, sparse and strong: the sign of the skew (Σ d³ of the differences from the
    // local mean) tells it. Noise and the edges of light and shadow weigh alike both ways.
    const std::size_t r = std::max<std::size_t>(3, std::min(map.h, map.w) / 12);
    std::vector<float> local = v;
    box_blur(local.data(), map.h, map.w, r);
    double skew = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double d = v[i] - local[i];
        skew += d * d * d;
    }
    if (skew > 0) {
        for (auto& p : v) {
            p = 1.0f - p;
        }
    }
    // The paper's level everywhere: a closing (the brightest pixel nearby, then the darkest of
    // those) with a window wider than any stroke removes the ink and keeps the light, its
    // gradients and shadow edges included.
    std::vector<float> background = v;
    square_extreme(background.data(), map.h, map.w, r, std::greater<float>{});
    square_extreme(background.data(), map.h, map.w, r, std::less<float>{});
    map.ink.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        map.ink[i] =
            std::clamp((background[i] - v[i]) / std::max(background[i], 0.05f), 0.0f, 1.0f);
    }
    return map;
}

/// One group's 28 × 28 digit: its ink (strongest strokes saturated), thickened to
/// options.min_stroke, fitted into 20 × 20 keeping the aspect ratio, and placed so that its
/// centre of mass is the centre, as MNIST's digits were made.
inline gray_image normalize_digit(const ink_map& map, const std::vector<std::uint32_t>& labels,
                                  std::size_t mark_count, const digit_group& g, float threshold,
                                  const digit_options& options) {
    const auto in_group = membership(g, mark_count);
    const auto member = [&](std::size_t y, std::size_t x) {
        const std::uint32_t l = labels[y * map.w + x];
        return l != 0 && in_group[l - 1] != 0 && x >= g.from && x < g.to;
    };
    const std::size_t gw = g.width(), gh = g.height();
    // The stroke's width: area over half the boundary (a stroke of width s and length L has
    // area s·L and 2L boundary pixels).
    std::size_t area = 0, boundary = 0;
    std::vector<float> strengths;
    for (std::size_t y = g.y0; y < g.y1; ++y) {
        for (std::size_t x = g.x0; x < g.x1; ++x) {
            if (!member(y, x)) {
                continue;
            }
            ++area;
            strengths.push_back(map.ink[y * map.w + x]);
            const bool edge = x == g.x0 || x + 1 == g.x1 || y == g.y0 || y + 1 == g.y1 ||
                              !member(y, x - 1) || !member(y, x + 1) || !member(y - 1, x) ||
                              !member(y + 1, x);
            boundary += edge ? 1U : 0U;
        }
    }
    const double fit = 20.0 / static_cast<double>(std::max(gw, gh));
    const double stroke =
        2.0 * static_cast<double>(area) / static_cast<double>(std::max<std::size_t>(boundary, 1));
    std::size_t thicken = 0;
    if (options.min_stroke > 0 && stroke * fit < options.min_stroke) {
        thicken =
            static_cast<std::size_t>(std::ceil((options.min_stroke - stroke * fit) / (2.0 * fit)));
    }
    // The group's ink in a frame padded for thickening; the strongest 40 % of its stroke
    // pixels saturate (MNIST's strokes are solid in the middle).
    const float full = std::max(quantile(strengths, 0.6), threshold);
    const std::size_t pad = thicken, fh = gh + 2 * pad, fw = gw + 2 * pad;
    std::vector<float> frame(fh * fw, 0.0f);
    for (std::size_t y = g.y0; y < g.y1; ++y) {
        for (std::size_t x = g.x0; x < g.x1; ++x) {
            // The group's pixels and the soft edge around them (below the threshold but next
            // to the stroke): anti-aliasing, not other marks.
            bool near = member(y, x);
            for (std::size_t dy = 0; !near && dy < 3; ++dy) {
                for (std::size_t dx = 0; !near && dx < 3; ++dx) {
                    const std::size_t yy = y + dy, xx = x + dx;
                    near = yy >= 1 && xx >= 1 && yy - 1 >= g.y0 && yy - 1 < g.y1 &&
                           xx - 1 >= g.x0 && xx - 1 < g.x1 && member(yy - 1, xx - 1);
                }
            }
            const std::uint32_t l = labels[y * map.w + x];
            if (near && (l == 0 || member(y, x))) {
                frame[(y - g.y0 + pad) * fw + (x - g.x0 + pad)] =
                    std::min(1.0f, map.ink[y * map.w + x] / full);
            }
        }
    }
    if (thicken > 0) {
        square_extreme(frame.data(), fh, fw, thicken, std::greater<float>{});
    }
    // Fit the (unpadded-size) ink box into 20 × 20: the thickened frame's box is the group's
    // grown by `pad` on each side.
    const double fit_frame = 20.0 / static_cast<double>(std::max(fw, fh));
    const auto fitted_w = static_cast<std::size_t>(
        std::clamp<long>(std::lround(static_cast<double>(fw) * fit_frame), 1L, 20L));
    const auto fitted_h = static_cast<std::size_t>(
        std::clamp<long>(std::lround(static_cast<double>(fh) * fit_frame), 1L, 20L));
    std::vector<float> fitted(fitted_w * fitted_h);
    resize_area(frame.data(), fh, fw, fw, fitted.data(), fitted_h, fitted_w);
    double mass = 0, mx = 0, my = 0;
    for (std::size_t y = 0; y < fitted_h; ++y) {
        for (std::size_t x = 0; x < fitted_w; ++x) {
            const double m = fitted[y * fitted_w + x];
            mass += m;
            mx += m * (static_cast<double>(x) + 0.5);
            my += m * (static_cast<double>(y) + 0.5);
        }
    }
    const auto place = [&](double moment, std::size_t extent) {
        const double centre = mass > 0 ? moment / mass : static_cast<double>(extent) / 2.0;
        // MNIST's digits have their centre of mass in the middle of pixel 14 (14.5 from the
        // edge, measured over its test set), not at 14.0.
        const long offset = std::lround(14.5 - centre);
        return static_cast<std::size_t>(std::clamp(offset, 0L, static_cast<long>(28 - extent)));
    };
    const std::size_t ox = place(mx, fitted_w), oy = place(my, fitted_h);
    gray_image digit(shape<2>{28, 28});
    digit.fill(0);
    for (std::size_t y = 0; y < fitted_h; ++y) {
        for (std::size_t x = 0; x < fitted_w; ++x) {
            digit(oy + y, ox + x) = static_cast<std::uint8_t>(
                std::lround(255.0f * std::clamp(fitted[y * fitted_w + x], 0.0f, 1.0f)));
        }
    }
    return digit;
}

/// The pixels of `g` in the columns [from, to), with their tight box and area.
inline digit_group columns_of(const digit_group& g, const std::vector<std::uint32_t>& labels,
                              const std::vector<char>& in_group, std::size_t w, std::size_t from,
                              std::size_t to) {
    digit_group part = g;
    part.from = std::max(from, g.from);
    part.to = std::min(to, g.to);
    part.area = 0;
    static_cast<extent&>(part) = extent{};
    for (std::size_t y = g.y0; y < g.y1; ++y) {
        for (std::size_t x = std::max(g.x0, part.from); x < std::min(g.x1, part.to); ++x) {
            const std::uint32_t l = labels[y * w + x];
            if (l != 0 && in_group[l - 1] != 0) {
                ++part.area;
                part.include(x, y);
            }
        }
    }
    return part;
}

/// The two halves of a group wide enough to be two touching digits, cut at the column of
/// least ink in its middle 40 %; none if it is narrower or a half would be a sliver.
inline std::vector<digit_group> halves_of(const digit_group& g,
                                          const std::vector<std::uint32_t>& labels,
                                          std::size_t mark_count, std::size_t w) {
    if (10 * g.width() < 11 * g.height()) {
        return {};
    }
    const auto in_group = membership(g, mark_count);
    std::size_t cut = 0, least = static_cast<std::size_t>(-1);
    const std::size_t middle = g.x0 + g.width() / 2;
    for (std::size_t x = g.x0 + 3 * g.width() / 10; x <= g.x0 + 7 * g.width() / 10; ++x) {
        std::size_t count = 0;
        for (std::size_t y = g.y0; y < g.y1; ++y) {
            const std::uint32_t l = labels[y * w + x];
            count += l != 0 && in_group[l - 1] != 0 ? 1U : 0U;
        }
        const auto distance = [&](std::size_t c) { return c > middle ? c - middle : middle - c; };
        if (count < least || (count == least && distance(x) < distance(cut))) {
            least = count;
            cut = x;
        }
    }
    auto left = columns_of(g, labels, in_group, w, 0, cut);
    auto right = columns_of(g, labels, in_group, w, cut, static_cast<std::size_t>(-1));
    if (10 * left.area < g.area || 10 * right.area < g.area) {
        return {};
    }
    return {std::move(left), std::move(right)};
}

} // namespace detail

/// Finds the handwritten digits in a photo, scan or drawing, left to right, each as an MNIST
/// digit: gray image of any size in (dark ink on light paper or light on dark), 28 × 28
/// digits out, ready for xtnn::to_images or xtnn::to_features.
///
/// The steps: reduce to options.working_size; estimate the paper's light everywhere (a grey-level
/// closing wider than the strokes) and divide by it, which removes gradients and shadows (first
/// inverted if the ink is light: ink is sparse and stands out of the local mean on its side);
/// threshold the ink (Otsu, at least options.min_contrast); label the 8-connected marks and drop
/// specks (options.speck_fraction of the largest); group marks into digits (broken strokes stacked
/// in the same columns join their digit, shorter fragments the digit they touch or share columns
/// with); then MNIST's steps for each digit: crop to the ink, thicken thin strokes
/// (options.min_stroke), fit 20 × 20 keeping the aspect ratio, centre the centre of mass in
/// 28 × 28.
/// @param image `(height, width)` gray pixels (see to_gray() for colour and alpha).
/// @param options thresholds and limits; the defaults read photos, scans and drawings.
/// @throws no_digit_error (with its reason) when the image holds no ink, too many marks,
/// too many digits or several rows; shape_error for an empty image; config_error for
/// impossible options.
/// @code
/// auto digits = xtnn::vision::find_digits(gray);          // e.g. 4 digits of a postcode
/// xtnn::tensor<std::uint8_t, 3> batch = xtnn::vision::stack(digits);
/// auto classes = xtnn::predict_classes(model, xtnn::to_images(batch));
/// @endcode
/// @ingroup vision
inline std::vector<found_digit> find_digits(const gray_image& image,
                                            const digit_options& options = {}) {
    xtnn::detail::require_option(options.working_size >= 28, "find_digits", "working_size", ">= 28",
                                 static_cast<double>(options.working_size));
    xtnn::detail::require_option(options.min_contrast > 0 && options.min_contrast < 1,
                                 "find_digits", "min_contrast", "in (0, 1)", options.min_contrast);
    xtnn::detail::require_option(options.speck_fraction >= 0 && options.speck_fraction < 1,
                                 "find_digits", "speck_fraction", "in [0, 1)",
                                 options.speck_fraction);
    xtnn::detail::require_option(options.max_digits >= 1, "find_digits", "max_digits", ">= 1",
                                 static_cast<double>(options.max_digits));
    xtnn::detail::require_option(options.min_stroke >= 0 && options.min_stroke <= 6, "find_digits",
                                 "min_stroke", "in [0, 6]", options.min_stroke);
    if (image.size() == 0) {
        throw shape_error(xtnn::detail::mismatch_message("find_digits", "the image is empty",
                                                         "(height > 0, width > 0)",
                                                         format_shape(image.shape())));
    }
    const detail::ink_map map = detail::make_ink_map(image, options);
    const std::size_t n = map.ink.size();
    // Nothing: too few pixels with ink of the least contrast to make a stroke.
    const auto strong = static_cast<std::size_t>(std::count_if(
        map.ink.begin(), map.ink.end(), [&](float v) { return v >= options.min_contrast; }));
    if (strong < 6) {
        throw no_digit_error(no_digit_reason::nothing,
                             "find_digits: no digit found: the image holds no ink (no mark "
                             "darker than its paper by " +
                                 xtnn::detail::format_number(100 * options.min_contrast) + "%)");
    }
    // Hysteresis: marks are what is above half of Otsu's threshold and holds some ink above
    // it, so that a thin, faint stroke stays one mark where it fades.
    const float threshold =
        std::max(detail::otsu_threshold(map.ink), static_cast<float>(options.min_contrast));
    const float low = std::max(0.5f * threshold, static_cast<float>(options.min_contrast));
    std::vector<std::uint8_t> mask(n);
    for (std::size_t i = 0; i < n; ++i) {
        mask[i] = map.ink[i] >= low ? 1U : 0U;
    }
    std::vector<std::uint32_t> labels;
    const auto marks = detail::label_marks(mask, map.h, map.w, labels);
    std::vector<bool> strong_mark(marks.size(), false);
    for (std::size_t i = 0; i < n; ++i) {
        if (labels[i] != 0 && map.ink[i] >= threshold) {
            strong_mark[labels[i] - 1] = true;
        }
    }
    // A mark across most of the picture's width or height along its edge is a shadow's band or
    // the paper's edge, not writing.
    const auto band = [&](const detail::mark& m) {
        const bool edge = m.x0 == 0 || m.y0 == 0 || m.x1 == map.w || m.y1 == map.h;
        return edge && (10 * m.width() >= 8 * map.w || 10 * m.height() >= 8 * map.h);
    };
    std::size_t largest = 0;
    for (std::size_t i = 0; i < marks.size(); ++i) {
        if (strong_mark[i] && !band(marks[i])) {
            largest = std::max(largest, marks[i].area);
        }
    }
    const auto min_area = std::max<std::size_t>(
        4, static_cast<std::size_t>(options.speck_fraction * static_cast<double>(largest)));
    std::vector<std::uint32_t> kept;
    for (std::uint32_t i = 0; i < marks.size(); ++i) {
        if (strong_mark[i] && !band(marks[i]) && marks[i].area >= min_area) {
            kept.push_back(i);
        }
    }
    if (kept.empty()) {
        throw no_digit_error(no_digit_reason::nothing,
                             "find_digits: no digit found: the image holds only specks (" +
                                 std::to_string(marks.size()) + " marks of at most " +
                                 std::to_string(largest) + " pixels)");
    }
    if (kept.size() > options.max_marks) {
        throw no_digit_error(
            no_digit_reason::too_many_marks,
            "find_digits: not a digit or a number: the image holds " + std::to_string(kept.size()) +
                " separate marks; expected at most " + std::to_string(options.max_marks));
    }
    std::vector<detail::digit_group> groups;
    if (options.single_digit) {
        groups.emplace_back();
        for (const auto i : kept) {
            detail::add_mark(groups.back(), i, marks[i]);
        }
    } else {
        groups = detail::group_marks(marks, kept);
    }
    if (!options.single_digit) {
        if (groups.size() > options.max_digits) {
            throw no_digit_error(
                no_digit_reason::too_many_digits,
                "find_digits: not a number: the image holds " + std::to_string(groups.size()) +
                    " digit-like marks; expected at most " + std::to_string(options.max_digits));
        }
        // One row: every digit's middle within the band of the digits' median top and bottom
        // (and a quarter of its height more).
        std::vector<float> tops, bottoms;
        for (const auto& g : groups) {
            tops.push_back(static_cast<float>(g.y0));
            bottoms.push_back(static_cast<float>(g.y1));
        }
        const float top = detail::quantile(tops, 0.5), bottom = detail::quantile(bottoms, 0.5);
        const float slack = 0.25f * (bottom - top);
        for (const auto& g : groups) {
            const float middle = 0.5f * static_cast<float>(g.y0 + g.y1);
            if (middle < top - slack || middle > bottom + slack) {
                throw no_digit_error(no_digit_reason::several_rows,
                                     "find_digits: not a number: the marks stand in more than one "
                                     "row (read one row of digits at a time)");
            }
        }
    }
    const auto make = [&](const detail::digit_group& g) {
        found_digit d;
        d.digit = detail::normalize_digit(map, labels, marks.size(), g, threshold, options);
        const auto to_image = [&](std::size_t v) {
            return static_cast<std::size_t>(static_cast<double>(v) / map.scale);
        };
        d.bounds = box{to_image(g.x0), to_image(g.y0),
                       std::max<std::size_t>(1, to_image(g.x1) - to_image(g.x0)),
                       std::max<std::size_t>(1, to_image(g.y1) - to_image(g.y0))};
        return d;
    };
    std::vector<found_digit> found;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        const auto& g = groups[gi];
        found.push_back(make(g));
        if (options.single_digit) {
            continue;
        }
        for (const auto& half : detail::halves_of(g, labels, marks.size(), map.w)) {
            found.back().halves.push_back(make(half));
        }
        if (gi + 1 < groups.size()) {
            // The next group as the other piece of one broken digit: close (a fifth of their
            // height apart at most), and together not much wider than tall.
            const auto& next = groups[gi + 1];
            detail::digit_group both = g;
            for (const auto i : next.marks) {
                detail::add_mark(both, i, marks[i]);
            }
            const std::size_t gap = next.x0 > g.x1 ? next.x0 - g.x1 : 0;
            if (5 * gap <= both.height() && 10 * both.width() <= 14 * both.height()) {
                found.back().joined.push_back(make(both));
            }
        }
    }
    return found;
}

/// @cond XTNN_DETAIL
// Any other image: xtensor would convert it implicitly (another rank corrupts memory), so this
// exact match wins and names what find_digits takes.
template <class Image>
requires(!std::same_as<Image, gray_image>) xtnn::detail::rejected
    find_digits(const Image&, const digit_options& = {}) {
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: find_digits: takes a", "gray image", pixels, Image,
                               std::uint8_t, 2);
    return {};
}
/// @endcond

namespace detail {

/// The digits pointed to as one batch of images, `(count, 28, 28)`.
inline tensor<std::uint8_t, 3> stack(const std::vector<const found_digit*>& digits) {
    tensor<std::uint8_t, 3> batch(shape<3>{digits.size(), 28, 28});
    for (std::size_t i = 0; i < digits.size(); ++i) {
        std::copy(digits[i]->digit.begin(), digits[i]->digit.end(), batch.data() + i * 784);
    }
    return batch;
}

} // namespace detail

/// The digits as one batch of images, `(count, 28, 28)`, for xtnn::to_images or
/// xtnn::to_features.
/// @ingroup vision
inline tensor<std::uint8_t, 3> stack(const std::vector<found_digit>& digits) {
    std::vector<const found_digit*> all;
    for (const auto& d : digits) {
        all.push_back(&d);
    }
    return detail::stack(all);
}

} // namespace xtnn::vision
