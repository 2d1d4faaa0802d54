#include <cstdint>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/training.hpp"

TEST_CASE("learning: a two-layer net learns XOR", "[model][learning]") {
    xtnn::sequential model{xtnn::dense{2, 8}, xtnn::tanh{}, xtnn::dense{8, 2}};
    model.initialize(1);
    xtnn::tensor<float, 2> x = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    xtnn::tensor<int, 1> y = {0, 1, 1, 0};
    xtnn::adam opt({.learning_rate = 0.05});
    const double loss =
        xtnn::test::train(model, xtnn::softmax_cross_entropy{}, opt, x, y, 500, 4, 1);
    CHECK(loss < 0.01);
    CHECK(xtnn::test::accuracy(model, x, y) == 1.0);
}

TEST_CASE("learning: an MLP separates two spirals", "[model][learning]") {
    const auto train_set = xtnn::make_two_spirals<float>({.samples_per_class = 300, .seed = 1});
    const auto test_set = xtnn::make_two_spirals<float>({.samples_per_class = 300, .seed = 2});
    xtnn::sequential model{xtnn::dense{2, 64}, xtnn::relu{}, xtnn::dense{64, 64}, xtnn::relu{},
                           xtnn::dense{64, 2}};
    model.initialize(3);
    xtnn::adam opt({.learning_rate = 0.01});
    xtnn::test::train(model, xtnn::softmax_cross_entropy{}, opt, train_set.features,
                      train_set.labels, 150, 32, 4);
    const double train_accuracy = xtnn::test::accuracy(model, train_set.features, train_set.labels);
    const double test_accuracy = xtnn::test::accuracy(model, test_set.features, test_set.labels);
    INFO("train " << train_accuracy << ", test " << test_accuracy);
    CHECK(train_accuracy >= 0.97);
    CHECK(test_accuracy >= 0.97);
}

TEST_CASE("learning: one seed gives bit-identical weights", "[model][learning]") {
    const auto data = xtnn::make_two_spirals<float>({.samples_per_class = 100, .seed = 5});
    auto run = [&] {
        xtnn::sequential model{xtnn::dense{2, 32}, xtnn::relu{}, xtnn::dropout{.rate = 0.1},
                               xtnn::dense{32, 2}};
        model.initialize(11);
        xtnn::adam opt;
        xtnn::test::train(model, xtnn::softmax_cross_entropy{}, opt, data.features, data.labels, 5,
                          16, 12);
        std::vector<float> weights;
        for (const auto& p : model.parameters()) {
            weights.insert(weights.end(), p.value.begin(), p.value.end());
        }
        return weights;
    };
    const auto first = run();
    const auto second = run();
    REQUIRE(first.size() == second.size());
    CHECK(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)) == 0);
}
