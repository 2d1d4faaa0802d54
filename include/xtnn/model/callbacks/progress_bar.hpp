/// @file
/// The Keras-like progress display of fit(): a live bar on terminals, lines elsewhere.
#pragma once

#include <algorithm>
#include <chrono>
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

    template <class State>
    void draw(const State& s, bool finished) {
        const std::size_t done = finished ? s.batches : s.batch + 1;
        const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
        const double per_step = done == 0 ? 0.0 : elapsed / static_cast<double>(done);
        char line[1024];
        int n = 0;
        const auto append = [&](const char* format, auto... values) {
            if (n >= 0 && static_cast<std::size_t>(n) < sizeof line) {
                n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), format,
                                   values...);
            }
        };
        if (style_ == progress_style::bar) {
            append("\r%*zu/%zu [", static_cast<int>(std::to_string(s.batches).size()), done,
                   s.batches);
            const std::size_t width = 30;
            const std::size_t filled = s.batches == 0 ? width : width * done / s.batches;
            for (std::size_t i = 0; i < width; ++i) {
                append("%c", i < filled ? '=' : (i == filled ? '>' : '.'));
            }
            append("]");
        } else {
            append("Epoch %zu/%zu - %zu/%zu", s.epoch + 1, s.epochs, done, s.batches);
        }
        if (finished || style_ == progress_style::lines) {
            append(" - %.0fs", elapsed);
        } else {
            append(" - ETA: %.0fs", per_step * static_cast<double>(s.batches - done));
        }
        if (per_step >= 1e-3) {
            append(" %.0fms/step", per_step * 1e3);
        } else {
            append(" %.0fus/step", per_step * 1e6);
        }
        for (const auto& entry : s.logs) {
            append(" - %s: %.4f", entry.name.c_str(), entry.value);
        }
        if (style_ == progress_style::bar) {
            append("\033[K"); // clear what a longer previous line left
        }
        if (finished) {
            append("\n");
        }
        out_->write(line, std::min<std::streamsize>(n, sizeof line - 1));
        out_->flush();
    }

    std::ostream* out_;
    progress_style style_;
    clock::time_point start_{}, last_draw_{};
};

} // namespace xtnn
