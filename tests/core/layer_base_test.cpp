#include <cstddef>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

// y = 2x, counting how often its shapes are checked and its maths runs.
class doubler : public xtnn::layer_base<doubler, double, 2, 2> {
  public:
    static constexpr std::string_view name = "doubler";

    xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const {
        ++shape_checks;
        if (input[1] != 3) {
            throw xtnn::shape_error("doubler::forward: needs 3 features");
        }
        return input;
    }

    mutable std::size_t shape_checks = 0;
    std::size_t forwards = 0;
    std::size_t backwards = 0;

  private:
    friend xtnn::layer_access;

    void compute_forward(const xtnn::tensor<double, 2>& x, xtnn::tensor<double, 2>& y, xtnn::mode) {
        ++forwards;
        for (std::size_t i = 0; i < x.size(); ++i) {
            y.data()[i] = 2 * x.data()[i];
        }
    }
    void compute_backward(const xtnn::tensor<double, 2>&, const xtnn::tensor<double, 2>&,
                          const xtnn::tensor<double, 2>& dy, xtnn::tensor<double, 2>* dx) {
        ++backwards;
        if (dx != nullptr) {
            for (std::size_t i = 0; i < dy.size(); ++i) {
                dx->data()[i] = 2 * dy.data()[i];
            }
        }
    }
};

} // namespace

TEST_CASE("layer_base: gives the layer its types and makes it a layer", "[core][layer_base]") {
    STATIC_REQUIRE(std::same_as<doubler::value_type, double>);
    STATIC_REQUIRE(doubler::input_rank == 2);
    STATIC_REQUIRE(std::same_as<doubler::output_type, xtnn::tensor<double, 2>>);
    STATIC_REQUIRE(xtnn::check_layer<doubler>());
    STATIC_REQUIRE(xtnn::detail::based_layer<doubler>);
    STATIC_REQUIRE(xtnn::detail::based_layer<xtnn::dense<float>>);
    STATIC_REQUIRE(xtnn::detail::based_layer<xtnn::softmax_layer<float, 2>>);
    STATIC_REQUIRE_FALSE(xtnn::detail::based_layer<xtnn::sequential<xtnn::dense<float>>>);
}

TEST_CASE("layer_base: a layer called by itself checks every shape before its maths",
          "[core][layer_base]") {
    doubler l;
    const xtnn::tensor<double, 2> x = {{1, 2, 3}, {4, 5, 6}};
    xtnn::tensor<double, 2> y = xt::zeros<double>({2, 3});
    l.forward(x, y);
    CHECK(y(1, 2) == 12);

    xtnn::tensor<double, 2> small = xt::zeros<double>({2, 2});
    REQUIRE_THROWS_WITH(l.forward(x, small),
                        Catch::Contains("doubler::forward: output buffer shape mismatch; expected "
                                        "(2, 3), got (2, 2)"));
    const xtnn::tensor<double, 2> wide = xt::zeros<double>({2, 4});
    xtnn::tensor<double, 2> y4 = xt::zeros<double>({2, 4});
    REQUIRE_THROWS_AS(l.forward(wide, y4), xtnn::shape_error);
    REQUIRE_THROWS_WITH(l.backward(x, y, small, nullptr),
                        Catch::Contains("doubler::backward: output gradient shape mismatch"));
    REQUIRE_THROWS_WITH(l.backward(x, small, small, nullptr),
                        Catch::Contains("doubler::backward: output shape mismatch"));
    CHECK(l.forwards == 1);
    CHECK(l.backwards == 0);

    // backward sizes dx for a caller that did not.
    xtnn::tensor<double, 2> dx;
    l.backward(x, y, y, &dx);
    REQUIRE(dx.shape() == x.shape());
    CHECK(dx(1, 2) == 24);
}

TEST_CASE("layer_base: a sequential checks shapes once per input shape, not at every step",
          "[core][layer_base]") {
    xtnn::sequential model{doubler{}, xtnn::dense<double>{3, 2}};
    const auto x = xtnn::test::random_tensor<double, 2>({4, 3}, 1);
    const xtnn::tensor<double, 2> dy = xt::ones<double>({4, 2});
    for (int step = 0; step < 3; ++step) {
        model.forward(x, xtnn::mode::training);
        model.backward(x, dy, true);
    }
    CHECK(model.layer<0>().shape_checks == 1);
    CHECK(model.layer<0>().forwards == 3);
    CHECK(model.layer<0>().backwards == 3);
    // The input gradient was sized when the model was built: 2 · W^T · 1.
    const auto& w = model.layer<1>().weight();
    CHECK(model.input_gradient()(3, 1) == Approx(2 * (w(0, 1) + w(1, 1))));

    // A new input shape is checked (once) again.
    const auto x2 = xtnn::test::random_tensor<double, 2>({5, 3}, 2);
    model.forward(x2);
    model.forward(x2);
    CHECK(model.layer<0>().shape_checks == 2);
    const auto bad = xtnn::test::random_tensor<double, 2>({5, 4}, 3);
    REQUIRE_THROWS_WITH(model.forward(bad),
                        Catch::Contains("sequential: layer 0 (doubler) rejects its input (5, 4)"));
}
