#include "photos.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stb_image_write.h>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/random.hpp>

namespace mnist {

namespace {

// A float picture, row-major, values in [0, 1].
struct canvas {
    std::size_t width = 0, height = 0;
    std::vector<float> v;
    float& at(std::size_t x, std::size_t y) { return v[y * width + x]; }
};

// The ink of one test digit: cropped to its ink, enlarged to `height` pixels (bilinear), and
// turned into a pen's coverage: the enlarged gray level above `pen` (0.15: a thick pen, 0.7: a
// thin one), with a soft edge.
canvas pen_stroke(const std::uint8_t* digit, double height, double pen) {
    std::size_t x0 = 28, x1 = 0, y0 = 28, y1 = 0;
    for (std::size_t y = 0; y < 28; ++y) {
        for (std::size_t x = 0; x < 28; ++x) {
            if (digit[y * 28 + x] > 40) {
                x0 = std::min(x0, x);
                x1 = std::max(x1, x + 1);
                y0 = std::min(y0, y);
                y1 = std::max(y1, y + 1);
            }
        }
    }
    if (x1 <= x0) { // a blank digit (none in MNIST): a dot
        x0 = 13, x1 = 15, y0 = 13, y1 = 15;
    }
    // One pixel of margin around the ink so that soft edges are kept.
    x0 = x0 > 0 ? x0 - 1 : 0;
    y0 = y0 > 0 ? y0 - 1 : 0;
    x1 = std::min<std::size_t>(28, x1 + 1);
    y1 = std::min<std::size_t>(28, y1 + 1);
    const double scale = height / static_cast<double>(y1 - y0);
    canvas out;
    out.width = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::lround(static_cast<double>(x1 - x0) * scale)));
    out.height = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(height)));
    out.v.resize(out.width * out.height);
    const auto sample = [&](double x, double y) {
        x = std::clamp(x, 0.0, 27.0);
        y = std::clamp(y, 0.0, 27.0);
        const auto xi = std::min<std::size_t>(26, static_cast<std::size_t>(x));
        const auto yi = std::min<std::size_t>(26, static_cast<std::size_t>(y));
        const double fx = x - static_cast<double>(xi), fy = y - static_cast<double>(yi);
        const auto p = [&](std::size_t xx, std::size_t yy) { return digit[yy * 28 + xx] / 255.0; };
        return (1 - fy) * ((1 - fx) * p(xi, yi) + fx * p(xi + 1, yi)) +
               fy * ((1 - fx) * p(xi, yi + 1) + fx * p(xi + 1, yi + 1));
    };
    const double soft = 0.12;
    for (std::size_t y = 0; y < out.height; ++y) {
        for (std::size_t x = 0; x < out.width; ++x) {
            const double g =
                sample(static_cast<double>(x0) - 0.5 + (static_cast<double>(x) + 0.5) / scale,
                       static_cast<double>(y0) - 0.5 + (static_cast<double>(y) + 0.5) / scale);
            out.at(x, y) = static_cast<float>(std::clamp((g - pen + soft) / (2 * soft), 0.0, 1.0));
        }
    }
    return out;
}

void gaussian_blur(canvas& c, double sigma) {
    if (sigma < 0.3) {
        return;
    }
    const auto r = static_cast<std::size_t>(std::ceil(3 * sigma));
    std::vector<float> kernel(2 * r + 1);
    float sum = 0;
    for (std::size_t i = 0; i < kernel.size(); ++i) {
        const double d = static_cast<double>(i) - static_cast<double>(r);
        kernel[i] = static_cast<float>(std::exp(-d * d / (2 * sigma * sigma)));
        sum += kernel[i];
    }
    for (auto& k : kernel) {
        k /= sum;
    }
    // One line at a time (rows, then columns), edges clamped.
    std::vector<float> line;
    const auto blur_line = [&](float* first, std::size_t n, std::size_t stride) {
        line.assign(n, 0.0f);
        for (std::size_t i = 0; i < n; ++i) {
            line[i] = first[i * stride];
        }
        for (std::size_t i = 0; i < n; ++i) {
            float s = 0;
            for (std::size_t k = 0; k < kernel.size(); ++k) {
                const auto j = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(i + k) -
                                                              static_cast<std::ptrdiff_t>(r),
                                                          0, static_cast<std::ptrdiff_t>(n) - 1);
                s += kernel[k] * line[static_cast<std::size_t>(j)];
            }
            first[i * stride] = s;
        }
    };
    for (std::size_t y = 0; y < c.height; ++y) {
        blur_line(c.v.data() + y * c.width, c.width, 1);
    }
    for (std::size_t x = 0; x < c.width; ++x) {
        blur_line(c.v.data() + x, c.height, c.width);
    }
}

void append_bytes(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), p, p + size);
}

} // namespace

std::vector<photo> make_photos(const xtnn::mnist_split& test, const photo_options& options) {
    const std::size_t available = test.labels.size();
    if (options.singles + 6 * options.numbers > available) {
        throw xtnn::config_error("make_photos: singles + 6 x numbers must be at most the " +
                                 std::to_string(available) + " test digits, got " +
                                 std::to_string(options.singles) + " + 6 x " +
                                 std::to_string(options.numbers));
    }
    xtnn::random_engine rng(options.seed);
    const auto uniform = [&](double lo, double hi) { return rng.uniform(lo, hi); };
    const auto chance = [&](double p) { return rng.uniform() < p; };
    std::vector<photo> photos;
    std::size_t next_digit = 0;
    for (std::size_t k = 0; k < options.singles + options.numbers; ++k) {
        const bool single = k < options.singles;
        const std::size_t count = single ? 1 : 2 + static_cast<std::size_t>(rng() % 5);
        photo p;
        std::string conditions;
        // The writer: one pen and one size for the whole photo.
        const double pen = uniform(0.12, 0.72);
        const double digit_height = single ? uniform(36, 200) : uniform(28, 110);
        conditions += pen > 0.55 ? "thin pen" : pen < 0.25 ? "thick pen" : "pen";
        std::vector<canvas> strokes;
        for (std::size_t d = 0; d < count; ++d, ++next_digit) {
            p.label += static_cast<char>('0' + test.labels(next_digit));
            strokes.push_back(pen_stroke(test.images.data() + next_digit * 784,
                                         digit_height * uniform(0.9, 1.1), pen));
        }
        // The layout: margins, gaps between the digits' ink, baselines.
        const double margin_x = digit_height * uniform(0.3, 1.2);
        const double margin_y = digit_height * uniform(0.3, 1.0);
        std::vector<double> xs, ys;
        double x = margin_x, tallest = 0;
        for (std::size_t d = 0; d < count; ++d) {
            xs.push_back(x);
            ys.push_back(margin_y + digit_height * uniform(-0.06, 0.06) + 0.1 * digit_height);
            const bool touching = chance(0.12);
            x += static_cast<double>(strokes[d].width) +
                 digit_height * (touching ? uniform(-0.05, 0.0) : uniform(0.05, 0.4));
            tallest = std::max(tallest, static_cast<double>(strokes[d].height));
        }
        canvas ink;
        ink.width = static_cast<std::size_t>(x + margin_x);
        ink.height = static_cast<std::size_t>(tallest + 2 * margin_y + 0.2 * digit_height);
        ink.v.assign(ink.width * ink.height, 0.0f);
        for (std::size_t d = 0; d < count; ++d) {
            const auto ox = static_cast<std::size_t>(std::max(0.0, xs[d]));
            const auto oy = static_cast<std::size_t>(std::max(0.0, ys[d]));
            for (std::size_t y = 0; y < strokes[d].height && oy + y < ink.height; ++y) {
                for (std::size_t xx = 0; xx < strokes[d].width && ox + xx < ink.width; ++xx) {
                    float& v = ink.at(ox + xx, oy + y);
                    v = std::max(v, strokes[d].at(xx, y));
                }
            }
        }
        // Paper and ink; a tenth are light chalk on a dark board.
        const bool board = chance(0.1);
        const double paper = board ? uniform(0.12, 0.3) : uniform(0.62, 0.96);
        const double pen_level = board ? uniform(0.75, 0.95) : uniform(0.04, 0.35);
        if (board) {
            conditions += ", light on dark";
        }
        // Light: a gradient across the page in a random direction, and in most photos a soft
        // shadow along one edge (a hand, a phone).
        const double angle = uniform(0, 2 * std::numbers::pi);
        const double gradient = uniform(0.0, 0.45);
        const bool shadow = chance(0.65);
        const std::size_t side = rng() % 4;
        const double depth = uniform(0.1, 0.45), darkness = uniform(0.4, 0.75),
                     penumbra = uniform(0.02, 0.15);
        if (gradient > 0.25) {
            conditions += ", gradient";
        }
        if (shadow) {
            conditions += ", shadow";
        }
        const double w = static_cast<double>(ink.width), h = static_cast<double>(ink.height);
        canvas page = ink;
        for (std::size_t y = 0; y < ink.height; ++y) {
            for (std::size_t xx = 0; xx < ink.width; ++xx) {
                const double u = static_cast<double>(xx) / w, v = static_cast<double>(y) / h;
                const double along =
                    0.5 + (u - 0.5) * std::cos(angle) + (v - 0.5) * std::sin(angle);
                double light = 1.0 - gradient * std::clamp(along, 0.0, 1.0);
                if (shadow) {
                    const double d = side == 0 ? u : side == 1 ? 1 - u : side == 2 ? v : 1 - v;
                    const double t = std::clamp((depth - d) / penumbra + 0.5, 0.0, 1.0);
                    light *= 1.0 - (1.0 - darkness) * t;
                }
                const double a = ink.at(xx, y);
                page.at(xx, y) = static_cast<float>(light * (paper * (1 - a) + pen_level * a));
            }
        }
        const double blur = uniform(0.0, 0.022) * digit_height;
        gaussian_blur(page, blur);
        if (blur > 0.012 * digit_height) {
            conditions += ", blur";
        }
        const double noise = uniform(0.005, 0.03);
        // Colour: tinted paper and a blue or black pen, for a third of them.
        const bool colour = chance(0.33);
        const int channels = colour ? 3 : 1;
        const double tint[3] = {1.0, uniform(0.93, 1.0), uniform(0.8, 0.98)};
        const double blue_pen[3] = {uniform(0.3, 1.0), uniform(0.4, 1.0), 1.0 + uniform(0.5, 1.5)};
        std::vector<std::uint8_t> pixels(page.v.size() * static_cast<std::size_t>(channels));
        for (std::size_t i = 0; i < page.v.size(); ++i) {
            const double a = ink.v[i];
            for (int c = 0; c < channels; ++c) {
                const double tone = colour ? (1 - a) * tint[c] + a * blue_pen[c] : 1.0;
                const double value = page.v[i] * tone + noise * rng.normal();
                pixels[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
                    static_cast<std::uint8_t>(std::lround(255 * std::clamp(value, 0.0, 1.0)));
            }
        }
        if (colour) {
            conditions += ", colour";
        }
        const bool jpeg = chance(0.7);
        const int quality = 55 + static_cast<int>(rng() % 38);
        const int iw = static_cast<int>(page.width), ih = static_cast<int>(page.height);
        char name[40];
        std::snprintf(name, sizeof name, "%s-%04zu.%s", single ? "digit" : "number",
                      single ? k : k - options.singles, jpeg ? "jpg" : "png");
        p.name = name;
        const int ok = jpeg ? stbi_write_jpg_to_func(append_bytes, &p.bytes, iw, ih, channels,
                                                     pixels.data(), quality)
                            : stbi_write_png_to_func(append_bytes, &p.bytes, iw, ih, channels,
                                                     pixels.data(), iw * channels);
        if (ok == 0) {
            throw xtnn::io_error("make_photos: cannot encode " + p.name);
        }
        conditions += jpeg ? ", jpeg " + std::to_string(quality) : ", png";
        p.conditions = conditions;
        photos.push_back(std::move(p));
    }
    return photos;
}

} // namespace mnist
