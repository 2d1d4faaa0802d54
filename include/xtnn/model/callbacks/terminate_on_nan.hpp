/// @file
/// terminate_on_nan: stop with an error as soon as the training loss is NaN or infinite.
#pragma once

#include <cmath>
#include <string>

#include <xtnn/core/errors.hpp>

namespace xtnn {

/// Throws numeric_error naming the epoch and batch when the batch loss is NaN or infinite, so
/// a diverging run fails loudly instead of training on garbage. fit() runs this check itself
/// unless `fit_options::check_finite` is false; the callback is for custom training loops.
/// @code
/// trainer.fit(x, y, {.epochs = 5, .check_finite = false}, xtnn::terminate_on_nan{});
/// @endcode
/// @ingroup model
struct terminate_on_nan {
    /// Checks the batch's loss.
    template <class State>
    void on_batch_end(State& s) const {
        check(s.batch_loss, s.epoch, s.batch);
    }
    /// Throws numeric_error unless `loss` is finite.
    static void check(double loss, std::size_t epoch, std::size_t batch) {
        if (!std::isfinite(loss)) {
            throw numeric_error("fit: the loss became " + detail::format_number(loss) +
                                " at epoch " + std::to_string(epoch + 1) + ", batch " +
                                std::to_string(batch + 1) +
                                " (lower the learning rate, or check the data for NaN)");
        }
    }
};

} // namespace xtnn
