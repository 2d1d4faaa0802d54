#include <cstdint>

#include <catch2/catch.hpp>

#include <xtnn/metrics/accuracy.hpp>
#include <xtnn/metrics/confusion_matrix.hpp>
#include <xtnn/metrics/top_k_accuracy.hpp>

TEST_CASE("accuracy: counts rows whose best score is the label", "[metrics][accuracy]") {
    xtnn::tensor<float, 2> logits = {{0.1f, 2.0f, -1.0f}, {3.0f, 0.0f, 0.5f}, {0.0f, 0.0f, 1.0f}};
    xtnn::tensor<std::uint8_t, 1> labels = {1, 2, 2};
    xtnn::accuracy acc;
    CHECK(acc.result() == 0.0);
    acc.update(logits, labels);
    CHECK(acc.result() == Approx(2.0 / 3));
    xtnn::tensor<float, 2> onehot = {{0, 1, 0}, {1, 0, 0}, {0, 1, 0}};
    acc.update(logits, onehot); // right, right, wrong
    CHECK(acc.result() == Approx(4.0 / 6));
    acc.reset();
    CHECK(acc.result() == 0.0);
    CHECK(acc.name() == "accuracy");
}

TEST_CASE("top_k_accuracy: counts labels among the k best", "[metrics][top_k_accuracy]") {
    xtnn::tensor<double, 2> scores = {{0.1, 0.5, 0.3, 0.9}, {0.9, 0.8, 0.7, 0.6}};
    xtnn::tensor<int, 1> labels = {2, 3};
    xtnn::top_k_accuracy top2(2);
    top2.update(scores, labels); // row 0: class 2 is third; row 1: class 3 is last
    CHECK(top2.result() == 0.0);
    xtnn::top_k_accuracy top3(3);
    top3.update(scores, labels);
    CHECK(top3.result() == 0.5);
    CHECK(top3.name() == "top_3_accuracy");
    REQUIRE_THROWS_AS(xtnn::top_k_accuracy(0), xtnn::config_error);
}

TEST_CASE("confusion_matrix: truth down, prediction across", "[metrics][confusion_matrix]") {
    xtnn::confusion_matrix cm(3);
    xtnn::tensor<float, 2> logits = {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    xtnn::tensor<long, 1> labels = {0, 1, 1, 2};
    cm.update(logits, labels);
    CHECK(cm.matrix()(0, 0) == 1);
    CHECK(cm.matrix()(1, 0) == 1);
    CHECK(cm.matrix()(1, 1) == 1);
    CHECK(cm.matrix()(2, 2) == 1);
    CHECK(cm.result() == 0.75);
    CHECK(cm.recall() == std::vector<double>{1.0, 0.5, 1.0});
    CHECK(cm.precision() == std::vector<double>{0.5, 1.0, 1.0});
    CHECK_THAT(cm.to_string(), Catch::Contains(" t\\p   0   1   2\n   0   1   0   0\n"));
    xtnn::tensor<float, 2> four(xtnn::shape<2>{1, 4});
    xtnn::tensor<long, 1> one = {0};
    REQUIRE_THROWS_WITH(cm.update(four, one), Catch::Contains("expected (batch, 3), got (1, 4)"));
}

TEST_CASE("metrics: shape and label errors", "[metrics][accuracy]") {
    xtnn::accuracy acc;
    xtnn::tensor<float, 2> logits(xtnn::shape<2>{4, 3});
    logits.fill(0);
    xtnn::tensor<int, 1> short_labels = {0, 1};
    REQUIRE_THROWS_MATCHES(acc.update(logits, short_labels), xtnn::shape_error,
                           Catch::Message("accuracy::update: one label per row of predictions; "
                                          "expected (4,), got (2,)"));
    xtnn::tensor<int, 1> bad = {0, 1, 3, 0};
    REQUIRE_THROWS_WITH(acc.update(logits, bad),
                        Catch::Contains("label 3 of row 2 is out of range; expected 0..2"));
}
