#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/feature_tracker.hpp"
#include "support/helpers.hpp"

namespace {

auto block(std::size_t n) {
    return xtnn::sequential{xtnn::dense<double>{n, n}, xtnn::tanh{}, xtnn::dense<double>{n, n}};
}

} // namespace

TEST_CASE("residual: y = x + f(x), and projection(x) + f(x)", "[layers][residual]") {
    const auto x = xtnn::test::random_tensor<double, 2>({3, 4}, 1);
    xtnn::residual skip{block(4)};
    STATIC_REQUIRE(xtnn::layer<decltype(skip)>);
    auto f = skip.block();
    const xtnn::tensor<double, 2> expected = x + f.forward(x);
    CHECK(xtnn::test::max_abs_difference(xtnn::apply(skip, x), expected) == 0.0);

    xtnn::residual widen{xtnn::sequential{xtnn::dense<double>{4, 6}, xtnn::relu{}},
                         xtnn::dense<double>{4, 6}};
    auto g = widen.block();
    auto p = widen.projection();
    xtnn::tensor<double, 2> shortcut(xtnn::shape<2>{3, 6});
    p.forward(x, shortcut, xtnn::mode::inference);
    const xtnn::tensor<double, 2> widened = shortcut + g.forward(x);
    CHECK(xtnn::test::max_abs_difference(xtnn::apply(widen, x), widened) == 0.0);
}

TEST_CASE("residual: gradients, with and without a projection", "[layers][residual]") {
    const auto x = xtnn::test::random_tensor<double, 2>({5, 4}, 2);
    xtnn::residual skip{block(4)};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(skip, x));
    xtnn::residual widen{xtnn::sequential{xtnn::dense<double>{4, 6}, xtnn::tanh{}},
                         xtnn::dense<double>{4, 6}};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(widen, x));
    xtnn::sequential model{xtnn::dense<double>{4, 4}, xtnn::residual{block(4)}, xtnn::sigmoid{},
                           xtnn::residual{xtnn::dense<double>{4, 4}}, xtnn::dense<double>{4, 2}};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(model, x));
}

TEST_CASE("residual: as the first layer, parameter gradients need no input gradient",
          "[layers][residual]") {
    xtnn::sequential model{xtnn::residual{block(3)},
                           xtnn::residual{xtnn::dense<double>{3, 2}, xtnn::dense<double>{3, 2}}};
    const auto x = xtnn::test::random_tensor<double, 2>({4, 3}, 3);
    const auto dy = xtnn::test::random_tensor<double, 2>({4, 2}, 4);
    model.forward(x, xtnn::mode::training);
    model.backward(x, dy, true);
    std::vector<std::vector<double>> with_input;
    for (const auto& p : model.parameters()) {
        with_input.emplace_back(p.gradient.begin(), p.gradient.end());
    }
    model.forward(x, xtnn::mode::training);
    model.backward(x, dy, false); // the residuals get no dx to write
    std::size_t k = 0;
    for (const auto& p : model.parameters()) {
        CHECK(std::vector<double>(p.gradient.begin(), p.gradient.end()) == with_input[k++]);
    }
}

TEST_CASE("residual: names as PyTorch's, seeded by the model, buffers carried",
          "[layers][residual]") {
    xtnn::sequential model{
        xtnn::dense{4, 8}, xtnn::relu{},
        xtnn::residual{xtnn::sequential{xtnn::dense{8, 8}, xtnn::test::feature_tracker<float>{8},
                                        xtnn::dense{8, 8}}},
        xtnn::residual{xtnn::sequential{xtnn::dense{8, 6}}, xtnn::dense{8, 6}}};
    std::vector<std::string> names;
    for (const auto& p : model.parameters()) {
        names.push_back(p.name);
    }
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias",
                                            "2.2.weight", "2.2.bias", "3.0.weight", "3.0.bias",
                                            "3.projection.weight", "3.projection.bias"});
    const auto buffers = model.buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].name == "2.1.running_mean");
    CHECK_THAT(model.summary({1, 4}), Catch::Contains("2   residual        (batch, 8)"));

    const xtnn::tensor<float, 2> composed = model.layer<2>().block().layer<0>().weight();
    model.initialize(5);
    CHECK_FALSE(xtnn::test::equal(model.layer<2>().block().layer<0>().weight(), composed));
    CHECK_FALSE(xtnn::test::equal(model.layer<3>().block().layer<0>().weight(),
                                  model.layer<3>().projection().weight()));
}

TEST_CASE("residual: a block that changes the shape needs a projection", "[layers][residual]") {
    xtnn::residual bad{xtnn::dense{4, 5}};
    xtnn::tensor<float, 2> x(xtnn::shape<2>{2, 4});
    REQUIRE_THROWS_MATCHES(
        xtnn::apply(bad, x), xtnn::shape_error,
        Catch::Message("residual: the block changes the shape of its input, so x cannot be added "
                       "to f(x) (give a projection); expected (2, 4), got (2, 5)"));
    xtnn::residual mismatched{xtnn::dense{4, 5}, xtnn::dense{4, 6}};
    REQUIRE_THROWS_MATCHES(xtnn::apply(mismatched, x), xtnn::shape_error,
                           Catch::Message("residual: the projection's output shape differs from "
                                          "the block's; expected (2, 5), got (2, 6)"));
}
