#include "pictures.hpp"

#include <algorithm>
#include <cairo.h>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <xtnn/core/errors.hpp>

namespace mnist {

namespace {

using surface_handle = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using context_handle = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

struct colour {
    double r, g, b;
};
constexpr colour ink{0.13, 0.13, 0.13};
constexpr colour grey{0.55, 0.55, 0.55};
constexpr colour grid_line{0.88, 0.88, 0.88};
constexpr colour blue{0.12, 0.47, 0.71};
constexpr colour orange{1.0, 0.50, 0.05};
constexpr colour red{0.84, 0.15, 0.16};

// A white canvas with a drawing context.
struct canvas {
    surface_handle surface;
    context_handle cr;

    canvas(int width, int height)
        : surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height),
                  &cairo_surface_destroy),
          cr(cairo_create(surface.get()), &cairo_destroy) {
        cairo_set_source_rgb(cr.get(), 1, 1, 1);
        cairo_paint(cr.get());
        cairo_select_font_face(cr.get(), "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_NORMAL);
    }

    void set(colour c) { cairo_set_source_rgb(cr.get(), c.r, c.g, c.b); }

    // Text anchored at (x, y): align 0 = left, 0.5 = centred, 1 = right; y is the baseline.
    void text(const std::string& s, double x, double y, double size, double align = 0.0,
              bool bold = false) {
        cairo_select_font_face(cr.get(), "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr.get(), size);
        cairo_text_extents_t extents;
        cairo_text_extents(cr.get(), s.c_str(), &extents);
        cairo_move_to(cr.get(), x - align * extents.x_advance, y);
        cairo_show_text(cr.get(), s.c_str());
    }

    // Text turned 90° counter-clockwise, centred on (x, y).
    void vertical_text(const std::string& s, double x, double y, double size) {
        cairo_save(cr.get());
        cairo_translate(cr.get(), x, y);
        cairo_rotate(cr.get(), -M_PI / 2);
        text(s, 0, 0, size, 0.5);
        cairo_restore(cr.get());
    }

    void line(double x0, double y0, double x1, double y1, double width) {
        cairo_set_line_width(cr.get(), width);
        cairo_move_to(cr.get(), x0, y0);
        cairo_line_to(cr.get(), x1, y1);
        cairo_stroke(cr.get());
    }

    void save(const std::filesystem::path& path) {
        cairo_surface_flush(surface.get());
        const cairo_status_t status = cairo_surface_write_to_png(surface.get(), path.c_str());
        if (status != CAIRO_STATUS_SUCCESS) {
            throw xtnn::io_error(
                "save_picture: '" + path.string() +
                "': cannot write the PNG (cairo: " + cairo_status_to_string(status) + ")");
        }
    }
};

std::string format(const char* pattern, double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}

// About `target` round tick values covering [low, high].
std::vector<double> ticks(double low, double high, int target) {
    const double raw = (high - low) / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    }
    std::vector<double> out;
    for (double t = std::ceil(low / step - 1e-9) * step; t <= high + 1e-9 * step; t += step) {
        out.push_back(std::abs(t) < 1e-12 ? 0.0 : t);
    }
    return out;
}

struct series {
    std::string label;
    const std::vector<double>* values;
    colour c;
};

// One chart: axes with ticks, grid lines, a line per series with dots, a legend.
void draw_chart(canvas& cv, double x, double y, double w, double h, const std::string& title,
                const std::string& y_label, const std::vector<series>& lines, bool percent) {
    const double left = x + 70, right = x + w - 20, top = y + 40, bottom = y + h - 50;
    std::size_t epochs = 0;
    double low = INFINITY, high = -INFINITY;
    for (const auto& s : lines) {
        epochs = std::max(epochs, s.values->size());
        for (const double v : *s.values) {
            low = std::min(low, v);
            high = std::max(high, v);
        }
    }
    if (epochs == 0 || !std::isfinite(low) || !std::isfinite(high)) {
        return;
    }
    const double pad = std::max((high - low) * 0.08, 1e-3);
    low -= pad;
    high += pad;
    const auto px = [&](double epoch) {
        return epochs == 1 ? (left + right) / 2
                           : left + (epoch - 1) / static_cast<double>(epochs - 1) * (right - left);
    };
    const auto py = [&](double v) { return bottom - (v - low) / (high - low) * (bottom - top); };

    cv.set(ink);
    cv.text(title, (left + right) / 2, y + 24, 17, 0.5, true);
    for (const double t : ticks(low, high, 5)) {
        cv.set(grid_line);
        cv.line(left, py(t), right, py(t), 1);
        cv.set(ink);
        cv.text(percent ? format("%.4g%%", 100 * t) : format("%.3g", t), left - 8, py(t) + 4, 12,
                1.0);
    }
    for (const double t :
         ticks(1, static_cast<double>(epochs), std::min<int>(10, static_cast<int>(epochs)))) {
        if (std::abs(t - std::round(t)) > 1e-9) {
            continue;
        }
        cv.set(grid_line);
        cv.line(px(t), top, px(t), bottom, 1);
        cv.set(ink);
        cv.text(format("%.0f", t), px(t), bottom + 18, 12, 0.5);
    }
    cv.set(ink);
    cv.line(left, top, left, bottom, 1.5);
    cv.line(left, bottom, right, bottom, 1.5);
    cv.text("epoch", (left + right) / 2, bottom + 40, 13, 0.5);
    cv.vertical_text(y_label, x + 16, (top + bottom) / 2, 13);

    for (const auto& s : lines) {
        cv.set(s.c);
        cairo_set_line_width(cv.cr.get(), 2.5);
        for (std::size_t e = 0; e < s.values->size(); ++e) {
            const double xx = px(static_cast<double>(e + 1)), yy = py((*s.values)[e]);
            e == 0 ? cairo_move_to(cv.cr.get(), xx, yy) : cairo_line_to(cv.cr.get(), xx, yy);
        }
        cairo_stroke(cv.cr.get());
        for (std::size_t e = 0; e < s.values->size(); ++e) {
            cairo_arc(cv.cr.get(), px(static_cast<double>(e + 1)), py((*s.values)[e]), 3.5, 0,
                      2 * M_PI);
            cairo_fill(cv.cr.get());
        }
    }
    // Legend, in the upper right corner for accuracy (rising) and the upper right for loss
    // too: the lines start low on the left for accuracy and high on the left for loss.
    const double lx = right - 150;
    double ly = percent ? bottom - 20.0 * static_cast<double>(lines.size()) - 10 : top + 14;
    cairo_set_source_rgba(cv.cr.get(), 1, 1, 1, 0.85);
    cairo_rectangle(cv.cr.get(), lx - 8, ly - 14, 150,
                    20.0 * static_cast<double>(lines.size()) + 8);
    cairo_fill(cv.cr.get());
    for (const auto& s : lines) {
        cv.set(s.c);
        cv.line(lx, ly - 4, lx + 24, ly - 4, 2.5);
        cv.set(ink);
        cv.text(s.label, lx + 32, ly, 12);
        ly += 20;
    }
}

} // namespace

void draw_digit_grid(const std::vector<labelled_digit>& digits, std::size_t columns,
                     const std::string& title, const std::filesystem::path& path) {
    constexpr int cell_w = 96, cell_h = 110, scale = 3, header = 40;
    const std::size_t rows = std::max<std::size_t>(1, (digits.size() + columns - 1) / columns);
    canvas cv(static_cast<int>(columns) * cell_w, header + static_cast<int>(rows) * cell_h);
    cv.set(ink);
    cv.text(title, 10, 26, 16, 0.0, true);

    // The digits as one image surface, light ink on dark as MNIST stores them.
    for (std::size_t i = 0; i < digits.size(); ++i) {
        const auto& d = digits[i];
        const int x = static_cast<int>(i % columns) * cell_w;
        const int y = header + static_cast<int>(i / columns) * cell_h;
        const int side = static_cast<int>(d.pixels.shape(0));
        surface_handle digit(cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side),
                             &cairo_surface_destroy);
        cairo_surface_flush(digit.get());
        auto* data = cairo_image_surface_get_data(digit.get());
        const int stride = cairo_image_surface_get_stride(digit.get());
        for (int r = 0; r < side; ++r) {
            auto* row = reinterpret_cast<std::uint32_t*>(data + r * stride);
            for (int c = 0; c < side; ++c) {
                const std::uint32_t v =
                    d.pixels(static_cast<std::size_t>(r), static_cast<std::size_t>(c));
                row[c] = v << 16 | v << 8 | v;
            }
        }
        cairo_surface_mark_dirty(digit.get());

        const double ox = x + (cell_w - scale * side) / 2.0, oy = y + 4;
        cairo_save(cv.cr.get());
        cairo_translate(cv.cr.get(), ox, oy);
        cairo_scale(cv.cr.get(), scale, scale);
        cairo_set_source_surface(cv.cr.get(), digit.get(), 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cv.cr.get()), CAIRO_FILTER_NEAREST);
        cairo_paint(cv.cr.get());
        cairo_restore(cv.cr.get());

        const bool wrong = d.predicted != d.truth;
        if (wrong) {
            cv.set(red);
            cairo_set_line_width(cv.cr.get(), 3);
            cairo_rectangle(cv.cr.get(), ox - 1.5, oy - 1.5, scale * side + 3, scale * side + 3);
            cairo_stroke(cv.cr.get());
        }
        cv.set(wrong ? red : ink);
        cv.text(std::to_string(d.predicted) +
                    (wrong ? " (true " + std::to_string(d.truth) + ")" : ""),
                x + cell_w / 2.0, oy + scale * side + 18, 13, 0.5, wrong);
    }
    cv.save(path);
}

void draw_training_curves(const xtnn::history& history, const std::filesystem::path& path) {
    canvas cv(1000, 420);
    std::vector<series> loss{{"training", &history["loss"], blue}};
    std::vector<series> accuracy;
    if (history.contains("accuracy")) {
        accuracy.push_back({"training", &history["accuracy"], blue});
    }
    if (history.contains("val_loss")) {
        loss.push_back({"validation", &history["val_loss"], orange});
    }
    if (history.contains("val_accuracy")) {
        accuracy.push_back({"validation", &history["val_accuracy"], orange});
    }
    draw_chart(cv, 0, 0, 500, 420, "Loss", "softmax cross-entropy", loss, false);
    draw_chart(cv, 500, 0, 500, 420, "Accuracy", "accuracy", accuracy, true);
    cv.save(path);
}

void draw_confusion_matrix(const xtnn::tensor<std::uint64_t, 2>& counts,
                           const std::filesystem::path& path) {
    const std::size_t k = counts.shape(0);
    const double size = 640, left = 90, top = 80,
                 cell = (size - left - 30) / static_cast<double>(k);
    canvas cv(static_cast<int>(size), static_cast<int>(size));
    std::uint64_t right = 0, total = 0;
    for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = 0; j < k; ++j) {
            total += counts(i, j);
            right += i == j ? counts(i, j) : 0;
        }
    }
    cv.set(ink);
    cv.text(
        "Confusion matrix: " + std::to_string(right) + " of " + std::to_string(total) + " right (" +
            format("%.2f",
                   total ? 100.0 * static_cast<double>(right) / static_cast<double>(total) : 0.0) +
            "%)",
        size / 2, 30, 17, 0.5, true);
    cv.text("predicted digit", left + cell * static_cast<double>(k) / 2, top - 30, 13, 0.5);
    cv.vertical_text("true digit", 24, top + cell * static_cast<double>(k) / 2, 13);
    for (std::size_t i = 0; i < k; ++i) {
        std::uint64_t row_total = 0;
        for (std::size_t j = 0; j < k; ++j) {
            row_total += counts(i, j);
        }
        const double y = top + cell * static_cast<double>(i);
        cv.set(ink);
        cv.text(std::to_string(i), left - 12, y + cell / 2 + 5, 13, 1.0);
        cv.text(std::to_string(i), left + cell * (static_cast<double>(i) + 0.5), top - 8, 13, 0.5);
        for (std::size_t j = 0; j < k; ++j) {
            const double share =
                row_total ? static_cast<double>(counts(i, j)) / static_cast<double>(row_total)
                          : 0.0;
            // Diagonal cells shade to blue, mistakes to red; the square root lifts small
            // shares so rare confusions stay visible.
            const double t = std::sqrt(share);
            const colour target = i == j ? blue : red;
            cairo_set_source_rgb(cv.cr.get(), 1 - t * (1 - target.r), 1 - t * (1 - target.g),
                                 1 - t * (1 - target.b));
            const double x = left + cell * static_cast<double>(j);
            cairo_rectangle(cv.cr.get(), x, y, cell, cell);
            cairo_fill(cv.cr.get());
            cv.set(t > 0.6 ? colour{1, 1, 1} : (counts(i, j) ? ink : grey));
            cv.text(std::to_string(counts(i, j)), x + cell / 2, y + cell / 2 + 5, 13, 0.5);
        }
    }
    cv.set(grid_line);
    for (std::size_t i = 0; i <= k; ++i) {
        const double o = cell * static_cast<double>(i);
        cv.line(left, top + o, left + cell * static_cast<double>(k), top + o, 1);
        cv.line(left + o, top, left + o, top + cell * static_cast<double>(k), 1);
    }
    cv.save(path);
}

} // namespace mnist
