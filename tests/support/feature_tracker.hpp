// A layer with buffers and no parameters, for tests of the framework's buffer handling before a
// real layer (batch norm) uses them: the identity map that, in training mode, tracks a running
// mean of each input feature (PyTorch's momentum rule, momentum 0.5) and counts its batches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn::test {

template <std::floating_point T = float>
class feature_tracker {
  public:
    using value_type = T;
    static constexpr std::size_t input_rank = 2;
    static constexpr std::size_t output_rank = 2;
    using input_type = tensor<T, 2>;
    using output_type = tensor<T, 2>;
    static constexpr std::string_view name = "feature_tracker";

    explicit feature_tracker(std::size_t features)
        : running_mean_(shape<1>{features}), count_(shape<1>{1}) {
        running_mean_.fill(T(0));
        count_.fill(0);
    }

    shape<2> output_shape(const shape<2>& input) const { return input; }

    void forward(const input_type& x, output_type& y, mode m) {
        std::copy(x.data(), x.data() + x.size(), y.data());
        if (m != mode::training || x.shape()[0] == 0) {
            return;
        }
        const std::size_t rows = x.shape()[0], features = x.shape()[1];
        for (std::size_t j = 0; j < features; ++j) {
            T sum = 0;
            for (std::size_t r = 0; r < rows; ++r) {
                sum += x(r, j);
            }
            running_mean_(j) = T(0.5) * running_mean_(j) + T(0.5) * sum / T(rows);
        }
        ++count_(0);
    }

    void backward(const input_type&, const output_type&, const output_type& dy, input_type* dx) {
        if (dx != nullptr) {
            if (dx->shape() != dy.shape()) {
                dx->resize(dy.shape());
            }
            std::copy(dy.data(), dy.data() + dy.size(), dx->data());
        }
    }

    std::vector<parameter_view<T>> parameters() { return {}; }

    std::vector<buffer_view<T>> buffers() {
        return {{"running_mean",
                 std::span<T>(running_mean_.data(), running_mean_.size()),
                 {running_mean_.size()}},
                {"num_batches_tracked", std::span<std::int64_t>(count_.data(), 1), {}}};
    }

    const tensor<T, 1>& running_mean() const { return running_mean_; }
    std::int64_t batches() const { return count_(0); }

  private:
    tensor<T, 1> running_mean_;
    tensor<std::int64_t, 1> count_; // one value, shape () in files as in PyTorch
};

} // namespace xtnn::test
