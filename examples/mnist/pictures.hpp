// The pictures the MNIST example draws, as PNG files (cairo).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <xtnn/core/tensor.hpp>
#include <xtnn/model/history.hpp>

namespace mnist {

/// One digit to show: its pixels, the model's guess and the truth.
struct labelled_digit {
    xtnn::tensor<std::uint8_t, 2> pixels; ///< 28 × 28.
    int predicted = 0;
    int truth = 0;
};

/// A grid of digits, `columns` wide, each with "guess (truth)" underneath; mistakes are framed
/// and labelled in red. Cells are 96 × 110 pixels under a 40-pixel title.
void draw_digit_grid(const std::vector<labelled_digit>& digits, std::size_t columns,
                     const std::string& title, const std::filesystem::path& path);

/// Loss and accuracy per epoch, training and validation, side by side with axes and legends:
/// 1000 × 420 pixels.
void draw_training_curves(const xtnn::history& history, const std::filesystem::path& path);

/// The confusion matrix as a heatmap: rows are the true digits, columns the predictions; each
/// cell shows its count, shaded by the share of its row. 640 × 640 pixels.
void draw_confusion_matrix(const xtnn::tensor<std::uint64_t, 2>& counts,
                           const std::filesystem::path& path);

} // namespace mnist
