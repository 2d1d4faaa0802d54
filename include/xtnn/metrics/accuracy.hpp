/// @file
/// Classification accuracy: the fraction of rows whose highest score is the true class.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>

#include <xtnn/core/math.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/metrics/metric.hpp>

namespace xtnn {

/// Accuracy: the fraction of samples whose highest prediction is the target class.
///
/// Predictions `(batch, classes)` may be logits or probabilities (only their order matters).
/// Targets are class indices `(batch)` or one-hot rows `(batch, classes)`. Ties go to the
/// lower class.
/// @throws shape_error if the shapes do not fit; std::out_of_range for a bad label.
/// @code
/// xtnn::accuracy acc;
/// acc.update(logits, labels);
/// double fraction = acc.result();
/// @endcode
/// @ingroup metrics
class accuracy {
  public:
    /// "accuracy".
    std::string name() const { return "accuracy"; }
    /// Forgets all batches.
    void reset() { counts_ = {}; }
    /// Adds one batch.
    template <std::floating_point T, class Target>
    void update(const tensor<T, 2>& prediction, const Target& target) {
        detail::check_class_targets(prediction, target, "accuracy");
        const std::size_t classes = prediction.shape()[1];
        for (std::size_t r = 0; r < prediction.shape()[0]; ++r) {
            const std::size_t predicted = detail::argmax(prediction.data() + r * classes, classes);
            counts_.right +=
                predicted == detail::target_class(prediction, target, r, "accuracy") ? 1U : 0U;
        }
        counts_.seen += prediction.shape()[0];
    }
    /// Any other arguments do not compile, with a sentence saying what the metric takes.
    template <class P, class Y>
    detail::rejected update(const P&, const Y&) {
        return detail::reject_class_metric_arguments<P, Y>();
    }
    /// The fraction right so far (0 before any update).
    double result() const { return counts_.fraction(); }

    /// Puts the counts so far into `s` (fit's backups save a metric mid-epoch).
    void save_state(saved_state& s) const { counts_.save_state(s); }
    /// Continues from a save_state().
    /// @throws io_error if `s` holds no such counts.
    void load_state(const saved_state& s) { counts_.load_state(s); }

  private:
    detail::right_of_seen counts_;
};

} // namespace xtnn
