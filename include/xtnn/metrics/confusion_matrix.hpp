/// @file
/// The confusion matrix: how often each true class was predicted as each class.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/metrics/metric.hpp>

namespace xtnn {

/// Counts of (true class, predicted class) pairs; row = truth, column = prediction.
///
/// Its result() is the accuracy (the trace over the total), so it can also serve as a
/// metric; matrix(), recall() and precision() give the detail.
/// @throws config_error if `classes` is 0; shape_error if predictions have another number of
/// classes.
/// @code
/// xtnn::confusion_matrix cm(10);
/// cm.update(logits, labels);
/// std::cout << cm.to_string();
/// @endcode
/// @ingroup metrics
class confusion_matrix {
  public:
    /// A matrix for `classes` classes.
    explicit confusion_matrix(std::size_t classes)
        : classes_(classes), counts_(shape<2>{classes, classes}) {
        detail::require_option(classes > 0, "confusion_matrix", "classes", "> 0",
                               static_cast<double>(classes));
        reset();
    }
    /// "confusion_accuracy".
    std::string name() const { return "confusion_accuracy"; }
    /// The number of classes.
    std::size_t classes() const { return classes_; }
    /// Sets every count to 0.
    void reset() { counts_.fill(0); }
    /// Adds one batch.
    template <std::floating_point T, class Target>
    void update(const tensor<T, 2>& prediction, const Target& target) {
        detail::check_class_targets(prediction, target, "confusion_matrix");
        if (prediction.shape()[1] != classes_) {
            throw shape_error(detail::mismatch_message(
                "confusion_matrix::update", "class count mismatch",
                "(batch, " + std::to_string(classes_) + ")", format_shape(prediction.shape())));
        }
        for (std::size_t r = 0; r < prediction.shape()[0]; ++r) {
            const std::size_t predicted =
                detail::argmax(prediction.data() + r * classes_, classes_);
            ++counts_(detail::target_class(prediction, target, r, "confusion_matrix"), predicted);
        }
    }
    /// Any other arguments do not compile, with a sentence saying what the metric takes.
    template <class P, class Y>
    detail::rejected update(const P&, const Y&) {
        return detail::reject_class_metric_arguments<P, Y>();
    }
    /// counts(truth, predicted).
    const tensor<std::uint64_t, 2>& matrix() const { return counts_; }
    /// The accuracy: right predictions over all (0 when empty).
    double result() const {
        std::uint64_t right = 0, total = 0;
        for (std::size_t i = 0; i < classes_; ++i) {
            for (std::size_t j = 0; j < classes_; ++j) {
                total += counts_(i, j);
                right += i == j ? counts_(i, j) : 0;
            }
        }
        return total == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(total);
    }
    /// Per class: the fraction of its samples predicted right (its accuracy; 0 if none).
    std::vector<double> recall() const {
        std::vector<double> out(classes_, 0.0);
        for (std::size_t i = 0; i < classes_; ++i) {
            std::uint64_t row = 0;
            for (std::size_t j = 0; j < classes_; ++j) {
                row += counts_(i, j);
            }
            out[i] = row == 0 ? 0.0 : static_cast<double>(counts_(i, i)) / static_cast<double>(row);
        }
        return out;
    }
    /// Per class: the fraction of its predictions that were right (0 if never predicted).
    std::vector<double> precision() const {
        std::vector<double> out(classes_, 0.0);
        for (std::size_t j = 0; j < classes_; ++j) {
            std::uint64_t column = 0;
            for (std::size_t i = 0; i < classes_; ++i) {
                column += counts_(i, j);
            }
            out[j] = column == 0 ? 0.0
                                 : static_cast<double>(counts_(j, j)) / static_cast<double>(column);
        }
        return out;
    }
    /// The matrix as an aligned text table, truth down, prediction across.
    std::string to_string() const {
        std::size_t width = 4;
        for (auto c : counts_) {
            width = std::max(width, std::to_string(c).size() + 1);
        }
        auto cell = [width](const std::string& s) {
            return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
        };
        std::string out = cell("t\\p");
        for (std::size_t j = 0; j < classes_; ++j) {
            out += cell(std::to_string(j));
        }
        out += "\n";
        for (std::size_t i = 0; i < classes_; ++i) {
            out += cell(std::to_string(i));
            for (std::size_t j = 0; j < classes_; ++j) {
                out += cell(std::to_string(counts_(i, j)));
            }
            out += "\n";
        }
        return out;
    }

    /// Puts the counts so far into `s` (fit's backups save a metric mid-epoch).
    void save_state(saved_state& s) const {
        s.put("counts", std::vector<std::uint64_t>(counts_.begin(), counts_.end()));
    }
    /// Continues from a save_state() of a matrix of as many classes.
    /// @throws io_error if `s` holds no counts for classes() × classes().
    void load_state(const saved_state& s) {
        std::vector<std::uint64_t> counts;
        s.get("counts", counts);
        if (counts.size() != counts_.size()) {
            throw io_error("confusion_matrix::load_state: " + std::to_string(counts.size()) +
                           " counts; expected " + std::to_string(counts_.size()));
        }
        std::copy(counts.begin(), counts.end(), counts_.begin());
    }

  private:
    std::size_t classes_;
    tensor<std::uint64_t, 2> counts_;
};

} // namespace xtnn
