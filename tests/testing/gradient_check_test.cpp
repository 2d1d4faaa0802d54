#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

// y = 2x, but backward claims dx = 3 dy: the checker must catch it.
struct wrong_double {
    using value_type = double;
    static constexpr std::size_t input_rank = 2;
    static constexpr std::size_t output_rank = 2;
    using input_type = xtnn::tensor<double, 2>;
    using output_type = xtnn::tensor<double, 2>;
    static constexpr std::string_view name = "wrong_double";
    xtnn::shape<2> output_shape(const xtnn::shape<2>& s) const { return s; }
    void forward(const input_type& x, output_type& y, xtnn::mode) const {
        for (std::size_t i = 0; i < x.size(); ++i) {
            y.data()[i] = 2 * x.data()[i];
        }
    }
    void backward(const input_type&, const output_type&, const output_type& dy,
                  input_type* dx) const {
        for (std::size_t i = 0; i < dy.size(); ++i) {
            dx->data()[i] = 3 * dy.data()[i];
        }
    }
    std::vector<xtnn::parameter_view<double>> parameters() { return {}; }
};

// MSE whose gradient forgets the factor 2.
struct wrong_mse {
    static constexpr std::string_view name = "wrong_mse";
    double value(const xtnn::tensor<double, 1>& p, const xtnn::tensor<double, 1>& t) const {
        return xtnn::mean_squared_error{}.value(p, t);
    }
    double value_and_gradient(const xtnn::tensor<double, 1>& p, const xtnn::tensor<double, 1>& t,
                              xtnn::tensor<double, 1>& g) const {
        g = (p - t) / static_cast<double>(p.size());
        return value(p, t);
    }
};

} // namespace

TEST_CASE("gradient_check: catches a wrong input gradient", "[testing][gradient_check]") {
    wrong_double layer;
    const auto x = xtnn::test::random_tensor<double, 2>({2, 3}, 1);
    const auto result = xtnn::check_gradients(layer, x);
    CHECK_FALSE(result.passed);
    CHECK(result.checked == 6);
    CHECK(result.max_error > 0.1);
    CHECK_THAT(result.worst, Catch::StartsWith("input["));
    CHECK_THAT(result.message(), Catch::StartsWith("gradient check failed: max error"));
}

TEST_CASE("gradient_check: catches a wrong parameter gradient", "[testing][gradient_check]") {
    xtnn::dense<double> fc(3, 2);
    const auto x = xtnn::test::random_tensor<double, 2>({4, 3}, 2);
    REQUIRE(xtnn::check_gradients(fc, x).passed);
    // A model whose first layer is shared would differ; here, scale a weight gradient by
    // checking a layer whose parameters() reports the wrong gradient buffer.
    struct swapped : xtnn::dense<double> {
        using xtnn::dense<double>::dense;
        std::vector<xtnn::parameter_view<double>> parameters() {
            auto p = xtnn::dense<double>::parameters();
            std::swap(p[0].gradient, p[0].value); // reports the weights as their gradient
            return p;
        }
    } broken(3, 2);
    const auto result = xtnn::check_gradients(broken, x);
    CHECK_FALSE(result.passed);
    CHECK_THAT(result.worst, Catch::StartsWith("weight["));
}

TEST_CASE("gradient_check: catches a wrong loss gradient", "[testing][gradient_check]") {
    xtnn::tensor<double, 1> p = {1, 2, 3};
    xtnn::tensor<double, 1> t = {0, 0, 0};
    const auto result = xtnn::check_loss_gradient(wrong_mse{}, p, t);
    CHECK_FALSE(result.passed);
    CHECK(result.analytic == Approx(result.numeric / 2));
    CHECK(xtnn::check_loss_gradient(xtnn::mean_squared_error{}, p, t).passed);
}
