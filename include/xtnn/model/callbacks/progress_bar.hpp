/// @file
/// The Keras-like progress display of fit(): a live bar on terminals, lines elsewhere.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <string>
#include <unistd.h>

namespace xtnn {

/// How a progress_bar shows training.
/// @ingroup model
enum class progress_style {
    automatic, ///< bar on a terminal (std::cout to a TTY), lines otherwise
    bar,       ///< one live line per epoch, redrawn in place (carriage return)
    lines      ///< one plain line per finished epoch (logs, CI)
};

/// Shows fit()'s progress: epoch k/n, the bar, batches done, elapsed time and ETA, time per
/// step, and the running loss and metrics; at the end of each epoch the validation values.
///
/// ```
/// Epoch 2/5
///  250/250 [==============================] - 1s 3ms/step - loss: 0.1513 - accuracy: 0.9561
/// ```
/// The bar is redrawn at most every 100 ms (and at the end of each epoch), into a fixed
/// buffer: it adds no allocation and no measurable time per batch. fit() adds one itself
/// unless its verbosity is silent.
/// @code
/// trainer.fit(x, y, {.epochs = 5, .verbose = xtnn::verbosity::silent},
///             xtnn::progress_bar(std::clog, xtnn::progress_style::lines));
/// @endcode
/// @ingroup model
class progress_bar {
  public:
    /// Shows progress on `out` in `style`.
    explicit progress_bar(std::ostream& out, progress_style style = progress_style::automatic)
        : out_(&out), style_(style) {
        if (style_ == progress_style::automatic) {
            const bool terminal = &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
            style_ = terminal ? progress_style::bar : progress_style::lines;
        }
    }

    /// The style in use (automatic resolved).
    progress_style style() const { return style_; }

    /// Starts the epoch's clock and prints its heading in bar style.
    template <class State>
    void on_epoch_begin(State& s) {
        start_ = last_draw_ = clock::now();
        if (style_ == progress_style::bar) {
            char line[64];
            std::snprintf(line, sizeof line, "Epoch %zu/%zu\n", s.epoch + 1, s.epochs);
            *out_ << line << std::flush;
        }
    }

    /// Redraws the bar (bar style), at most every 100 ms.
    template <class State>
    void on_batch_end(State& s) {
        if (style_ != progress_style::bar) {
            return;
        }
        const auto now = clock::now();
        if (s.batch + 1 < s.batches && now - last_draw_ < std::chrono::milliseconds(100)) {
            return;
        }
        last_draw_ = now;
        draw(s, false);
    }

    /// Prints the finished epoch with its validation values.
    template <class State>
    void on_epoch_end(State& s) {
        draw(s, true);
    }

  private:
    using clock = std::chrono::steady_clock;

    // A fixed buffer that printf-style appends go into (no allocation while training).
    struct line_writer {
        char data[1024] = {};
        std::size_t size = 0;
        [[gnu::format(printf, 2, 3)]] void append(const char* format, ...) {
            va_list arguments;
            va_start(arguments, format);
            const int written = std::vsnprintf(data + size, sizeof data - size, format, arguments);
            va_end(arguments);
            if (written > 0) {
                size = std::min(sizeof data - 1, size + static_cast<std::size_t>(written));
            }
        }
    };

    template <class State>
    void draw(const State& s, bool finished) {
        const std::size_t done = finished ? s.batches : s.batch + 1;
        const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
        const double per_step = done == 0 ? 0.0 : elapsed / static_cast<double>(done);
        line_writer line;
        if (style_ == progress_style::bar) {
            int digits = 1;
            for (std::size_t b = s.batches; b >= 10; b /= 10) {
                ++digits;
            }
            line.append("\r%*zu/%zu [", digits, done, s.batches);
            const std::size_t width = 30;
            const std::size_t filled = s.batches == 0 ? width : width * done / s.batches;
            for (std::size_t i = 0; i < width; ++i) {
                line.append("%c", i < filled ? '=' : (i == filled ? '>' : '.'));
            }
            line.append("]");
        } else {
            line.append("Epoch %zu/%zu - %zu/%zu", s.epoch + 1, s.epochs, done, s.batches);
        }
        if (finished || style_ == progress_style::lines) {
            line.append(" - %.0fs", elapsed);
        } else {
            line.append(" - ETA: %.0fs", per_step * static_cast<double>(s.batches - done));
        }
        if (per_step >= 1e-3) {
            line.append(" %.0fms/step", per_step * 1e3);
        } else {
            line.append(" %.0fus/step", per_step * 1e6);
        }
        for (const auto& entry : s.logs) {
            line.append(" - %s: %.4f", entry.name.c_str(), entry.value);
        }
        if (style_ == progress_style::bar) {
            line.append("\033[K"); // clear what a longer previous line left
        }
        if (finished) {
            line.append("\n");
        }
        out_->write(line.data, static_cast<std::streamsize>(line.size));
        out_->flush();
    }

    std::ostream* out_;
    progress_style style_;
    clock::time_point start_{}, last_draw_{};
};

} // namespace xtnn
