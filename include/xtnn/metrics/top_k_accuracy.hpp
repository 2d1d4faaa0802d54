/// @file
/// Top-k accuracy: the fraction of rows whose true class is among the k highest scores.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/metrics/metric.hpp>

namespace xtnn {

/// Top-k accuracy: a sample counts as right when fewer than k classes score strictly higher
/// than its target class (so ties favour the sample).
///
/// Predictions `(batch, classes)`; targets class indices `(batch)` or one-hot rows.
/// @throws config_error if k is 0.
/// @code
/// xtnn::top_k_accuracy top5(5);
/// top5.update(logits, labels);
/// @endcode
/// @ingroup metrics
class top_k_accuracy {
  public:
    /// Counts a hit when the target is among the `k` best classes.
    explicit top_k_accuracy(std::size_t k = 5) : k_(k) {
        detail::require_option(k > 0, "top_k_accuracy", "k", "> 0", static_cast<double>(k));
    }
    /// "top_5_accuracy" for k = 5.
    std::string name() const { return "top_" + std::to_string(k_) + "_accuracy"; }
    /// Forgets all batches.
    void reset() { counts_ = {}; }
    /// Adds one batch.
    template <std::floating_point T, class Target>
    void update(const tensor<T, 2>& prediction, const Target& target) {
        detail::check_class_targets(prediction, target, "top_k_accuracy");
        const std::size_t classes = prediction.shape()[1];
        for (std::size_t r = 0; r < prediction.shape()[0]; ++r) {
            const T* row = prediction.data() + r * classes;
            const T score = row[detail::target_class(prediction, target, r, "top_k_accuracy")];
            std::size_t higher = 0;
            for (std::size_t j = 0; j < classes; ++j) {
                higher += row[j] > score ? 1U : 0U;
            }
            counts_.right += higher < k_ ? 1U : 0U;
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
    std::size_t k_;
    detail::right_of_seen counts_;
};

} // namespace xtnn
