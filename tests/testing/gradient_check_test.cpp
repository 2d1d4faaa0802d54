#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/feature_tracker.hpp"
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

// y = 2x with the right gradient, but added to dx instead of written: the checker poisons dx
// before backward, so it must catch it.
struct adds_to_dx : wrong_double {
    void backward(const input_type&, const output_type&, const output_type& dy,
                  input_type* dx) const {
        for (std::size_t i = 0; i < dy.size(); ++i) {
            dx->data()[i] += 2 * dy.data()[i];
        }
    }
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

TEST_CASE("gradient_check: backward must write gradients, not add to them",
          "[testing][gradient_check]") {
    adds_to_dx layer;
    const auto x = xtnn::test::random_tensor<double, 2>({2, 3}, 1);
    const auto result = xtnn::check_gradients(layer, x);
    CHECK_FALSE(result.passed);
    CHECK_THAT(result.worst, Catch::StartsWith("input["));
    // A parameter gradient that is added to fails the same way.
    struct adds_to_weight_gradient : xtnn::dense<double> {
        using xtnn::dense<double>::dense;
        void backward(const input_type& in, const output_type& out, const output_type& dy,
                      input_type* dx) {
            auto p = parameters();
            const std::vector<double> before(p[0].gradient.begin(), p[0].gradient.end());
            xtnn::dense<double>::backward(in, out, dy, dx);
            for (std::size_t i = 0; i < before.size(); ++i) {
                p[0].gradient[i] += before[i];
            }
        }
    } broken(3, 2);
    const auto params = xtnn::check_gradients(broken, x);
    CHECK_FALSE(params.passed);
    CHECK_THAT(params.worst, Catch::StartsWith("weight["));
}

TEST_CASE("gradient_check: buffers are restored after the check", "[testing][gradient_check]") {
    xtnn::sequential model{xtnn::dense<double>{3, 4}, xtnn::test::feature_tracker<double>{4},
                           xtnn::dense<double>{4, 2}};
    const auto x = xtnn::test::random_tensor<double, 2>({5, 3}, 4);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(model, x));
    CHECK(model.layer<1>().batches() == 0); // the check ran many training forwards
    CHECK(xt::amax(xt::abs(model.layer<1>().running_mean()))() == 0.0);
}

TEST_CASE("gradient_check: catches a wrong parameter gradient", "[testing][gradient_check]") {
    xtnn::dense<double> fc(3, 2);
    const auto x = xtnn::test::random_tensor<double, 2>({4, 3}, 2);
    REQUIRE(xtnn::check_gradients(fc, x).passed);
    // A layer whose backward doubles its weight gradient.
    struct doubled : xtnn::dense<double> {
        using xtnn::dense<double>::dense;
        void backward(const input_type& in, const output_type& out, const output_type& dy,
                      input_type* dx) {
            xtnn::dense<double>::backward(in, out, dy, dx);
            const auto views = parameters(); // a named vector: the views' spans outlive the loop
            for (auto& g : views[0].gradient) {
                g *= 2;
            }
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
