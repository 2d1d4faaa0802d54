// Per-sample weights in the losses: the weighted mean Σ w ℓ / Σ w (PyTorch's normalization),
// checked against PyTorch where it has the same loss, by hand and by gradient checks elsewhere.
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/losses/binary_cross_entropy.hpp>
#include <xtnn/losses/huber.hpp>
#include <xtnn/losses/mean_absolute_error.hpp>
#include <xtnn/losses/mean_squared_error.hpp>
#include <xtnn/losses/softmax_cross_entropy.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"
#include "support/python.hpp"

namespace {

// A loss with its sample weights bound, so check_loss_gradient differentiates the weighted form.
template <class Loss>
struct weighted {
    static constexpr std::string_view name = Loss::name;
    Loss loss;
    std::vector<double> weights;
    template <class P, class Y>
    double value(const P& p, const Y& y) const {
        return loss.value(p, y, std::span<const double>(weights));
    }
    template <class P, class Y>
    double value_and_gradient(const P& p, const Y& y, P& g) const {
        return loss.value_and_gradient(p, y, g, std::span<const double>(weights));
    }
};

} // namespace

TEST_CASE("sample weights: softmax_cross_entropy with class weights matches PyTorch's "
          "CrossEntropyLoss(weight=...)",
          "[losses][sample_weights][torch]") {
    if (!xtnn::test::python_ready("torch", "python3-torch")) {
        return;
    }
    const xtnn::tensor<double, 2> logits = {
        {1.0, -2.0, 0.5}, {0.1, 0.2, 0.3}, {-1.0, 3.0, 0.0}, {2.0, 2.0, -4.0}};
    const xtnn::tensor<std::int64_t, 1> labels = {0, 2, 1, 2};
    const std::vector<double> class_weight = {0.5, 1.0, 3.0};
    std::vector<double> w;
    for (auto label : labels) {
        w.push_back(class_weight[static_cast<std::size_t>(label)]);
    }
    xtnn::tensor<double, 2> g;
    const double ours = xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, g, w);
    const auto theirs = xtnn::test::parse_numbers(xtnn::test::run_python(
        "import torch; "
        "z = torch.tensor([[1.0, -2.0, 0.5], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0], "
        "[2.0, 2.0, -4.0]], dtype=torch.float64, requires_grad=True); "
        "y = torch.tensor([0, 2, 1, 2]); "
        "l = torch.nn.CrossEntropyLoss(weight=torch.tensor([0.5, 1.0, 3.0], "
        "dtype=torch.float64))(z, y); l.backward(); "
        "print(l.item(), *z.grad.flatten().tolist())"));
    REQUIRE(theirs.size() == 1 + g.size());
    CHECK(ours == Approx(theirs[0]).epsilon(1e-12));
    for (std::size_t i = 0; i < g.size(); ++i) {
        CHECK(g.data()[i] == Approx(theirs[1 + i]).epsilon(1e-12).margin(1e-15));
    }
}

TEST_CASE("sample weights: mean_squared_error matches the weighted mean of PyTorch's "
          "per-sample MSELoss",
          "[losses][sample_weights][torch]") {
    if (!xtnn::test::python_ready("torch", "python3-torch")) {
        return;
    }
    const xtnn::tensor<double, 2> p = {{1.0, 2.0}, {0.5, -1.0}, {3.0, 0.0}};
    const xtnn::tensor<double, 2> t = {{0.0, 2.5}, {0.5, 1.0}, {1.0, 1.0}};
    const std::vector<double> w = {2.0, 0.0, 0.5};
    xtnn::tensor<double, 2> g;
    const double ours = xtnn::mean_squared_error{}.value_and_gradient(p, t, g, w);
    const auto theirs = xtnn::test::parse_numbers(xtnn::test::run_python(
        "import torch; "
        "p = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]], dtype=torch.float64, "
        "requires_grad=True); "
        "t = torch.tensor([[0.0, 2.5], [0.5, 1.0], [1.0, 1.0]], dtype=torch.float64); "
        "w = torch.tensor([2.0, 0.0, 0.5], dtype=torch.float64); "
        "per = torch.nn.MSELoss(reduction='none')(p, t).mean(dim=1); "
        "l = (w * per).sum() / w.sum(); l.backward(); "
        "print(l.item(), *p.grad.flatten().tolist())"));
    REQUIRE(theirs.size() == 1 + g.size());
    CHECK(ours == Approx(theirs[0]).epsilon(1e-12));
    for (std::size_t i = 0; i < g.size(); ++i) {
        CHECK(g.data()[i] == Approx(theirs[1 + i]).epsilon(1e-12).margin(1e-15));
    }
}

TEST_CASE("sample weights: known values, and weights of 1 change nothing",
          "[losses][sample_weights]") {
    const xtnn::tensor<float, 2> p = {{1.0f}, {2.0f}, {4.0f}};
    const xtnn::tensor<float, 2> t = {{0.0f}, {0.0f}, {0.0f}};
    xtnn::tensor<float, 2> g, g_plain;
    const std::vector<float> w = {1.0f, 0.0f, 3.0f};
    // (1·1 + 0·4 + 3·16) / (1 + 0 + 3)
    CHECK(xtnn::mean_squared_error{}.value_and_gradient(p, t, g, w) == Approx(12.25));
    CHECK(xtnn::test::equal(g, xtnn::tensor<float, 2>{{0.5f}, {0.0f}, {6.0f}}));
    // Weights of 1, or of any one value, give the unweighted loss bit for bit.
    const std::vector<float> ones(3, 1.0f), twos(3, 2.0f);
    const float plain = xtnn::mean_squared_error{}.value_and_gradient(p, t, g_plain);
    CHECK(xtnn::mean_squared_error{}.value_and_gradient(p, t, g, ones) == plain);
    CHECK(xtnn::test::equal(g, g_plain));
    CHECK(xtnn::mean_squared_error{}.value_and_gradient(p, t, g, twos) == plain);
    CHECK(xtnn::test::equal(g, g_plain));
    // All weights 0: the batch contributes nothing (PyTorch would give 0/0 = NaN).
    const std::vector<float> zeros(3, 0.0f);
    CHECK(xtnn::mean_squared_error{}.value_and_gradient(p, t, g, zeros) == 0.0f);
    CHECK(xtnn::test::equal(g, xtnn::tensor<float, 2>{{0.0f}, {0.0f}, {0.0f}}));

    const xtnn::tensor<float, 2> logits = {{1.0f, 2.0f}, {0.0f, 0.0f}};
    const xtnn::tensor<int, 1> labels = {0, 1};
    const std::vector<float> w2 = {2.0f, 1.0f};
    const float row0 = xtnn::softmax_cross_entropy{}.value(xtnn::tensor<float, 2>{{1.0f, 2.0f}},
                                                           xtnn::tensor<int, 1>{0});
    const float row1 = xtnn::softmax_cross_entropy{}.value(xtnn::tensor<float, 2>{{0.0f, 0.0f}},
                                                           xtnn::tensor<int, 1>{1});
    CHECK(xtnn::softmax_cross_entropy{}.value(logits, labels, w2) == Approx((2 * row0 + row1) / 3));
}

TEST_CASE("sample weights: weighted losses match numerical gradients", "[losses][sample_weights]") {
    const auto p = xtnn::test::random_tensor<double, 2>({4, 3}, 1);
    const auto t = xtnn::test::random_tensor<double, 2>({4, 3}, 2, 0.0, 1.0);
    const std::vector<double> w = {0.5, 2.0, 0.0, 1.25};
    XTNN_REQUIRE_GRADIENTS(
        xtnn::check_loss_gradient(weighted<xtnn::mean_squared_error>{{}, w}, p, t));
    XTNN_REQUIRE_GRADIENTS(
        xtnn::check_loss_gradient(weighted<xtnn::mean_absolute_error>{{}, w}, p, t));
    XTNN_REQUIRE_GRADIENTS(
        xtnn::check_loss_gradient(weighted<xtnn::huber>{{.delta = 0.3}, w}, p, t));
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(
        weighted<xtnn::binary_cross_entropy>{{.from_logits = true}, w}, p, t));
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(weighted<xtnn::softmax_cross_entropy>{{}, w},
                                                     p, xtnn::tensor<int, 1>{2, 0, 1, 1}));
    XTNN_REQUIRE_GRADIENTS(
        xtnn::check_loss_gradient(weighted<xtnn::softmax_cross_entropy>{{}, w}, p, t));
}

TEST_CASE("sample weights: one finite weight >= 0 per row", "[losses][sample_weights]") {
    const xtnn::tensor<float, 2> p = {{1.0f}, {2.0f}};
    const xtnn::tensor<float, 1> t = {0.0f, 0.0f};
    const std::vector<float> three(3, 1.0f);
    REQUIRE_THROWS_MATCHES(xtnn::mean_squared_error{}.value(p, t, three), xtnn::shape_error,
                           Catch::Message("mean_squared_error::value: one sample weight per row; "
                                          "expected 2 weights, got 3"));
    const std::vector<float> negative = {1.0f, -0.5f};
    REQUIRE_THROWS_MATCHES(xtnn::mean_squared_error{}.value(p, t, negative), xtnn::config_error,
                           Catch::Message("mean_squared_error: the weight of row 1 must be finite "
                                          "and >= 0; got -0.5"));
    const std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN(), 1.0f};
    REQUIRE_THROWS_AS(xtnn::softmax_cross_entropy{}.value(xtnn::tensor<float, 2>{{1, 2}, {3, 4}},
                                                          xtnn::tensor<int, 1>{0, 1}, nan),
                      xtnn::config_error);
}

TEST_CASE("elementwise losses: targets (batch) for a model with one output (batch, 1)",
          "[losses][sample_weights]") {
    const xtnn::tensor<float, 2> p = {{1.0f}, {2.0f}, {4.0f}};
    const xtnn::tensor<float, 1> t = {0.5f, 0.0f, 5.0f};
    const xtnn::tensor<float, 2> t2 = {{0.5f}, {0.0f}, {5.0f}};
    xtnn::tensor<float, 2> g1, g2;
    CHECK(xtnn::huber{}.value_and_gradient(p, t, g1) ==
          xtnn::huber{}.value_and_gradient(p, t2, g2));
    CHECK(xtnn::test::equal(g1, g2));
    const xtnn::tensor<float, 2> wide(xtnn::shape<2>{3, 2});
    REQUIRE_THROWS_MATCHES(
        xtnn::mean_squared_error{}.value(wide, t), xtnn::shape_error,
        Catch::Message("mean_squared_error::value: targets (batch) need a prediction with one "
                       "output (batch, 1) and as many rows; expected prediction (3, 1), got "
                       "(3, 2) for targets (3,)"));
}
