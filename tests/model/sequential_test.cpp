#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

TEST_CASE("sequential: composes by class-template argument deduction", "[model][sequential]") {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
                           xtnn::dense{128, 10}};
    STATIC_REQUIRE(
        std::same_as<decltype(model), xtnn::sequential<xtnn::dense<float>, xtnn::relu,
                                                       xtnn::dropout, xtnn::dense<float>>>);
    STATIC_REQUIRE(decltype(model)::size == 4);
    STATIC_REQUIRE(
        std::same_as<decltype(model)::layer_type<1>, xtnn::activation_layer<xtnn::relu, float, 2>>);
    STATIC_REQUIRE(std::same_as<decltype(model)::layer_type<2>, xtnn::dropout_layer<float, 2>>);
    STATIC_REQUIRE(std::same_as<decltype(model)::input_type, xtnn::tensor<float, 2>>);
    STATIC_REQUIRE(xtnn::layer<decltype(model)>);
    CHECK(model.layer<2>().rate() == 0.2);
    CHECK(model.parameter_count() == 784 * 128 + 128 + 128 * 10 + 10);
}

TEST_CASE("sequential: forward equals the layers applied by hand", "[model][sequential]") {
    xtnn::sequential model{xtnn::dense<double>{3, 4}, xtnn::tanh{}, xtnn::dense<double>{4, 2},
                           xtnn::softmax{}};
    const auto x = xtnn::test::random_tensor<double, 2>({5, 3}, 1);
    auto h = xtnn::apply(model.layer<0>(), x);
    h = xtnn::apply(model.layer<1>(), h);
    auto z = xtnn::apply(model.layer<2>(), h);
    z = xtnn::apply(model.layer<3>(), z);
    CHECK(xtnn::test::max_abs_difference(model.forward(x), z) == 0.0);
}

TEST_CASE("sequential: parameters use PyTorch's names and layouts", "[model][sequential]") {
    xtnn::sequential model{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    const auto params = model.parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0].name == "0.weight");
    CHECK(params[0].shape == std::vector<std::size_t>{8, 4});
    CHECK(params[1].name == "0.bias");
    CHECK(params[2].name == "2.weight");
    CHECK(params[3].name == "2.bias");
    CHECK(params[2].value.data() == model.layer<2>().weight().data());
}

TEST_CASE("sequential: backward matches numerical gradient through the whole model",
          "[model][sequential]") {
    xtnn::sequential model{xtnn::dense<double>{3, 5}, xtnn::sigmoid{},
                           xtnn::dense<double>{5, 4}, xtnn::gelu{},
                           xtnn::dense<double>{4, 2}, xtnn::log_softmax{}};
    const auto x = xtnn::test::random_tensor<double, 2>({4, 3}, 2);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(model, x));
}

TEST_CASE("sequential: nested models and flatten", "[model][sequential]") {
    xtnn::sequential inner{xtnn::dense<double>{6, 4}, xtnn::elu{}};
    xtnn::sequential model{xtnn::flatten_layer<double, 3>{}, inner, xtnn::dense<double>{4, 2}};
    const auto params = model.parameters();
    CHECK(params[0].name == "1.0.weight");
    const auto x = xtnn::test::random_tensor<double, 3>({2, 2, 3}, 3);
    CHECK(model.forward(x).shape() == xtnn::shape<2>{2, 2});
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(model, x));
}

TEST_CASE("sequential: extents are checked before any work, naming the layer",
          "[model][sequential]") {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{100, 10}};
    xtnn::tensor<float, 2> x(xtnn::shape<2>{32, 784});
    REQUIRE_THROWS_MATCHES(model.forward(x), xtnn::shape_error,
                           Catch::Message("sequential: layer 2 (dense) rejects its input (32, "
                                          "128): dense::forward: input shape mismatch; expected "
                                          "(batch, 100), got (32, 128)"));
    xtnn::sequential ok{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    xtnn::tensor<float, 2> images(xtnn::shape<2>{32, 28});
    REQUIRE_THROWS_WITH(ok.forward(images),
                        Catch::Contains("layer 0 (dense) rejects its input (32, 28)"));
}

TEST_CASE("sequential: backward needs a training forward with the same input",
          "[model][sequential]") {
    xtnn::sequential model{xtnn::dense{2, 2}};
    xtnn::tensor<float, 2> x = {{1, 2}};
    xtnn::tensor<float, 2> dy = {{1, 1}};
    REQUIRE_THROWS_AS(model.backward(x, dy), std::logic_error);
    model.forward(x);
    REQUIRE_THROWS_WITH(model.backward(x, dy), Catch::Contains("mode::training"));
    model.forward(x, xtnn::mode::training);
    xtnn::tensor<float, 2> wrong = {{1, 1, 1}};
    REQUIRE_THROWS_MATCHES(model.backward(x, wrong), xtnn::shape_error,
                           Catch::Message("sequential::backward: output gradient shape mismatch; "
                                          "expected (1, 2), got (1, 3)"));
    REQUIRE_NOTHROW(model.backward(x, dy, true));
    CHECK(model.input_gradient().shape() == x.shape());
}

TEST_CASE("sequential: initialize is seeded, per layer", "[model][sequential]") {
    xtnn::sequential a{xtnn::dense{8, 8}, xtnn::relu{}, xtnn::dense{8, 8}};
    xtnn::sequential b{xtnn::dense{8, 8}, xtnn::relu{}, xtnn::dense{8, 8}};
    CHECK(xtnn::test::equal(a.layer<0>().weight(), b.layer<0>().weight()));
    CHECK_FALSE(
        xtnn::test::equal(a.layer<0>().weight(), a.layer<2>().weight())); // same shape, own stream
    a.initialize(7);
    CHECK_FALSE(xtnn::test::equal(a.layer<0>().weight(), b.layer<0>().weight()));
    b.initialize(7);
    CHECK(xtnn::test::equal(a.layer<0>().weight(), b.layer<0>().weight()));
    CHECK(xtnn::test::equal(a.layer<2>().weight(), b.layer<2>().weight()));
}

TEST_CASE("sequential: the outer initialize re-seeds a nested model", "[model][sequential]") {
    const xtnn::sequential inner{xtnn::dense{8, 8}, xtnn::relu{}};
    xtnn::sequential a{inner, xtnn::dense{8, 8}};
    xtnn::sequential b{inner, xtnn::dense{8, 8}};
    const auto& nested = a.layer<0>().layer<0>().weight();
    // Composing seeds the nested layers from the outer model's stream, not the inner's own.
    CHECK_FALSE(xtnn::test::equal(nested, inner.layer<0>().weight()));
    CHECK(xtnn::test::equal(nested, b.layer<0>().layer<0>().weight()));
    const xtnn::tensor<float, 2> composed = nested;
    a.initialize(7);
    CHECK_FALSE(xtnn::test::equal(nested, composed));
    b.initialize(7);
    CHECK(xtnn::test::equal(nested, b.layer<0>().layer<0>().weight()));
    CHECK(xtnn::test::equal(a.layer<1>().weight(), b.layer<1>().weight()));
    // The nested model's stream is its own: its dense differs from the outer dense of the same
    // shape.
    CHECK_FALSE(xtnn::test::equal(nested, a.layer<1>().weight()));
}

TEST_CASE("sequential: summary lists layers, shapes and parameters", "[model][sequential]") {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
                           xtnn::dense{128, 10}};
    REQUIRE_THROWS_AS(model.summary(), std::logic_error);
    const std::string s = model.summary({1, 784});
    CHECK_THAT(s, Catch::Contains("0   dense           (batch, 128)            100,480"));
    CHECK_THAT(s, Catch::Contains("1   relu            (batch, 128)            0"));
    CHECK_THAT(s, Catch::Contains("2   dropout"));
    CHECK_THAT(s, Catch::Contains("3   dense           (batch, 10)             1,290"));
    CHECK_THAT(s, Catch::Contains("Total params: 101,770"));
    model.build({32, 784});
    CHECK(model.summary() == s);
}

namespace {

// Records where it was asked to write its output and its input gradient.
struct probe : xtnn::layer_base<probe, float, 2, 2> {
    static constexpr std::string_view name = "probe";
    const float* wrote_output = nullptr;
    const float* wrote_gradient = nullptr;
    xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const { return input; }

  private:
    friend xtnn::layer_access;
    void compute_forward(const xtnn::tensor<float, 2>& x, xtnn::tensor<float, 2>& y, xtnn::mode) {
        wrote_output = y.data();
        std::copy(x.begin(), x.end(), y.begin());
    }
    void compute_backward(const xtnn::tensor<float, 2>&, const xtnn::tensor<float, 2>&,
                          const xtnn::tensor<float, 2>& dy, xtnn::tensor<float, 2>* dx) {
        wrote_gradient = dx != nullptr ? dx->data() : nullptr;
        if (dx != nullptr) {
            std::copy(dy.begin(), dy.end(), dx->begin());
        }
    }
};

} // namespace

TEST_CASE("sequential: a nested model writes into its caller's buffers, without copies",
          "[model][sequential]") {
    xtnn::sequential inner{probe{}, xtnn::dense{3, 3}, probe{}};
    const xtnn::tensor<float, 2> x = xtnn::test::random_tensor<float>(xtnn::shape<2>{4, 3}, 1);
    xtnn::tensor<float, 2> y(xtnn::shape<2>{4, 3});
    inner.forward(x, y, xtnn::mode::training);
    CHECK(inner.layer<2>().wrote_output == y.data()); // the last layer wrote the caller's y
    const xtnn::tensor<float, 2> dy = xtnn::test::random_tensor<float>(xtnn::shape<2>{4, 3}, 2);
    xtnn::tensor<float, 2> dx;
    inner.backward(x, y, dy, &dx);
    REQUIRE(dx.shape() == x.shape());
    CHECK(inner.layer<0>().wrote_gradient == dx.data()); // the first layer wrote the caller's dx

    // The same model alone: its own output, equal to what it wrote for the caller.
    const auto& own = inner.forward(x, xtnn::mode::training);
    CHECK(own.data() != y.data());
    CHECK(xtnn::test::equal(own, y));
    inner.backward(x, dy, true);
    CHECK(xtnn::test::equal(inner.input_gradient(), dx));

    // A caller's buffer of another shape is refused, naming both shapes.
    xtnn::tensor<float, 2> wrong(xtnn::shape<2>{4, 2});
    CHECK_THROWS_WITH(inner.forward(x, wrong), Catch::Contains("output buffer shape mismatch") &&
                                                   Catch::Contains("(4, 3)") &&
                                                   Catch::Contains("(4, 2)"));
    // Backward after a forward into a caller's buffer needs that buffer.
    inner.forward(x, y, xtnn::mode::training);
    CHECK_THROWS_AS(inner.backward(x, dy), std::logic_error);
}

TEST_CASE("sequential: layers given as rvalues are moved in, at every level of nesting",
          "[model][sequential]") {
    // A ResNet nests its blocks five models deep: copying each level's weights had made
    // building resnet18 take most of a second. A moved tensor keeps its storage.
    xtnn::dense<float> first{3, 5}, second{5, 2};
    const float* first_weights = first.weight().data();
    const float* second_weights = second.weight().data();
    xtnn::sequential model{
        xtnn::sequential{std::move(first), xtnn::relu{}},
        xtnn::sequential{xtnn::sequential{std::move(second), xtnn::relu{}}, xtnn::relu{}}};
    CHECK(model.layer<0>().layer<0>().weight().data() == first_weights);
    CHECK(model.layer<1>().layer<0>().layer<0>().weight().data() == second_weights);
    // An lvalue is still copied, and left as it was.
    xtnn::dense<float> kept{3, 5};
    const auto before = kept.weight();
    xtnn::sequential copied{kept};
    CHECK(copied.layer<0>().weight().data() != kept.weight().data());
    CHECK(xtnn::test::equal(kept.weight(), before));
}

TEST_CASE("sequential: a model moved from refuses to run, with a typed error",
          "[model][sequential]") {
    xtnn::sequential model{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    const auto x = xtnn::test::random_tensor<float, 2>({5, 4}, 3);
    const xtnn::tensor<float, 2> expected = model.forward(x);
    auto moved = std::move(model);
    CHECK(xtnn::test::equal(xtnn::predict(moved, x), expected));
    const std::string message = "sequential: this model was moved from; use the model it was "
                                "moved to, or assign a model to it first";
    // NOLINTBEGIN(bugprone-use-after-move): the point of the test
    REQUIRE_THROWS_MATCHES(xtnn::predict(model, x), std::logic_error, Catch::Message(message));
    REQUIRE_THROWS_MATCHES(model.forward(x), std::logic_error, Catch::Message(message));
    REQUIRE_THROWS_AS(model.output_shape({5, 4}), std::logic_error);
    xtnn::tensor<float, 2> dy(xtnn::shape<2>{5, 3});
    REQUIRE_THROWS_WITH(model.backward(x, dy),
                        Catch::StartsWith("sequential::backward: this model was moved from"));
    // Assigning a model brings it back; a copy of a live model is live.
    model = std::move(moved);
    CHECK(xtnn::test::equal(xtnn::predict(model, x), expected));
    const auto copy = model;
    auto copied = copy;
    CHECK(xtnn::test::equal(copied.forward(x), expected));
    // NOLINTEND(bugprone-use-after-move)
}

TEST_CASE("sequential: inference runs a large batch by groups of samples, with the same bits",
          "[model][sequential]") {
    const auto convnet = [](bool running_statistics) {
        return xtnn::sequential{
            xtnn::conv2d<float>{1, 4, 3},
            xtnn::relu{},
            xtnn::max_pool2d{},
            xtnn::conv2d<float>{4, 6, 3},
            xtnn::batch_norm2d{.num_features = 6, .track_running_stats = running_statistics},
            xtnn::relu{},
            xtnn::flatten{},
            xtnn::dropout{0.5},
            xtnn::dense<float>{54, 10}};
    };
    for (const bool running : {true, false}) {
        INFO("batch norm " << (running ? "with" : "without") << " running statistics");
        for (const std::size_t batch : {std::size_t{37}, std::size_t{600}}) {
            INFO("batch " << batch);
            const auto x =
                xtnn::test::random_tensor<float, 4>({batch, 1, 12, 12}, batch, -1.0, 1.0);
            auto model = convnet(running);
            model.set_inference_group(SIZE_MAX); // whole batches
            const xtnn::tensor<float, 2> whole = model.forward(x);
            CHECK(model.inference_group() == 0);
            for (const std::size_t request : {std::size_t{0}, std::size_t{5}}) {
                INFO("groups asked for: " << request);
                model.set_inference_group(request);
                const auto& grouped = model.forward(x);
                // 37 in 8 groups of 5. Automatic: the layers up to the pooling, whose input
                // and output take 544 and 500 values a sample (more than 1 MiB for 600
                // samples; those after it 154 or fewer), 644 values with the input, 407 in
                // 1 MiB, so 600 in 2 groups of 300; 37 samples of every layer fit (whole).
                const std::size_t expected = request == 5 ? 5 : batch == 37 ? 0 : 300;
                CHECK(model.inference_group() == expected);
                if (xtnn::active_simd() != xtnn::simd_level::portable) {
                    CHECK((grouped == whole));
                } else { // BLAS products of other widths: their edge columns round otherwise
                    CHECK(xtnn::test::max_abs_difference(grouped, whole) <=
                          1e-6 * xt::amax(xt::abs(whole))());
                }
            }
            // Training runs the whole batch, and is unchanged by a grouped inference before.
            auto fresh = convnet(running);
            const xtnn::tensor<float, 2> trained = fresh.forward(x, xtnn::mode::training);
            CHECK((model.forward(x, xtnn::mode::training) == trained));
        }
    }
}

TEST_CASE("sequential: training groups, when every layer trains its samples apart",
          "[model][sequential]") {
    xtnn::set_num_threads(1);
    xtnn::sequential model{xtnn::conv2d<float>{1, 4, 3},
                           xtnn::relu{},
                           xtnn::max_pool2d{},
                           xtnn::conv2d<float>{4, 6, 3},
                           xtnn::relu{},
                           xtnn::flatten{},
                           xtnn::dropout{0.5},
                           xtnn::dense<float>{54, 10}};
    const auto group = [&](std::size_t batch) { return model.training_group({batch, 1, 12, 12}); };
    // Values a sample: 144 in, 400 (the relu before the pooling runs inside it), 100, 54 four
    // times and 10 out, 870; with their gradients 1,740, 301 in 2 MiB. A group divides the
    // batch: 600 in groups of 300; 601 is prime (whole); 37 fits in one group (whole).
    CHECK(group(600) == 300);
    CHECK(group(601) == 0);
    CHECK(group(37) == 0);
    CHECK(group(1) == 0);
    // On two threads the same: fit gives each thread groups of its own (on a copy of the
    // model), so a group is sized for one core's cache.
    xtnn::set_num_threads(2);
    CHECK(group(600) == 300);
    CHECK(group(6000) == 300);
    xtnn::set_num_threads(1);
    // Asked for: the largest divisor up to the request.
    model.set_training_group(4);
    CHECK(group(6) == 3);
    CHECK(group(16) == 4);
    CHECK(group(7) == 1);
    CHECK(group(4) == 0);
    model.set_training_group(SIZE_MAX);
    CHECK(group(600) == 0);
    model.set_training_group(0);
    CHECK(group(600) == 300);
    // Batch norm in training normalizes by the batch: never grouped; nor is a model whose
    // layer reads padding masks (see mask_test.cpp).
    xtnn::sequential normed{xtnn::conv2d<float>{1, 4, 3}, xtnn::batch_norm2d{4}, xtnn::relu{},
                            xtnn::flatten{}, xtnn::dense<float>{400, 10}};
    normed.set_training_group(4);
    CHECK(normed.training_group({16, 1, 12, 12}) == 0);
    REQUIRE_THROWS_AS(model.training_group({16, 2, 12, 12}), xtnn::shape_error);
    xtnn::set_num_threads(0);
}

TEST_CASE("sequential: in inference a convolution applies the batch norm and relu after it "
          "as it writes its output",
          "[model][sequential]") {
    // conv, batch norm, relu: one pass; conv, batch norm, then a relu that the pooling runs:
    // the conv takes the batch norm alone; a last conv and batch norm write the model's output.
    const auto make = [](bool running, xtnn::conv_algorithm algorithm) {
        return xtnn::sequential{
            xtnn::conv2d<float>({.in_channels = 3,
                                 .out_channels = 6,
                                 .kernel_size = 3,
                                 .padding = 1,
                                 .algorithm = algorithm}),
            xtnn::batch_norm2d{.num_features = 6, .track_running_stats = running},
            xtnn::relu{},
            xtnn::conv2d<float>({.in_channels = 6,
                                 .out_channels = 5,
                                 .kernel_size = 3,
                                 .stride = 2,
                                 .padding = 1,
                                 .bias = false}),
            xtnn::batch_norm2d{.num_features = 5, .track_running_stats = running},
            xtnn::relu{},
            xtnn::max_pool2d{2},
            xtnn::conv2d<float>{5, 4, 1},
            xtnn::batch_norm2d{4}};
    };
    using model_type = decltype(make(true, xtnn::conv_algorithm::automatic));
    STATIC_REQUIRE(xtnn::takes_channel_epilogue<xtnn::conv2d<float>>);
    STATIC_REQUIRE(xtnn::states_channel_affine<xtnn::batch_norm_layer<float, 4>>);
    // Running statistics and affine parameters away from PyTorch's defaults.
    const auto set_statistics = [](auto& norm, std::uint64_t seed) {
        const std::size_t c = norm.num_features();
        norm.running_mean() = xtnn::test::random_tensor<float, 1>({c}, seed, -0.5, 0.5);
        norm.running_var() = xtnn::test::random_tensor<float, 1>({c}, seed + 1, 0.2, 2.0);
        norm.weight() = xtnn::test::random_tensor<float, 1>({c}, seed + 2, -1.5, 1.5);
        norm.bias() = xtnn::test::random_tensor<float, 1>({c}, seed + 3, -0.5, 0.5);
    };
    const auto x = xtnn::test::random_tensor<float, 4>({3, 3, 11, 11}, 7, -1.0, 1.0);
    const xtnn::simd_level detected = xtnn::detected_simd();
    // The first convolution by the direct kernels, then by Winograd's transforms.
    for (const auto& [running, algorithm] : {std::pair{true, xtnn::conv_algorithm::automatic},
                                             std::pair{false, xtnn::conv_algorithm::automatic},
                                             std::pair{true, xtnn::conv_algorithm::winograd}}) {
        for (const auto level :
             {xtnn::simd_level::portable, xtnn::simd_level::avx2, xtnn::simd_level::avx512}) {
            if (level > detected) {
                continue;
            }
            INFO("batch norm " << (running ? "with" : "without") << " running statistics, "
                               << xtnn::to_string(level) << ", first convolution "
                               << (algorithm == xtnn::conv_algorithm::winograd ? "Winograd's"
                                                                               : "direct"));
            const auto before = xtnn::set_simd(level);
            model_type model = make(running, algorithm);
            set_statistics(model.layer<1>(), 10);
            set_statistics(model.layer<4>(), 20);
            set_statistics(model.layer<8>(), 30);
            // Each layer apart, in inference.
            auto h = xtnn::apply(model.layer<0>(), x);
            h = xtnn::apply(model.layer<1>(), h);
            h = xtnn::apply(model.layer<2>(), h);
            h = xtnn::apply(model.layer<3>(), h);
            h = xtnn::apply(model.layer<4>(), h);
            h = xtnn::apply(model.layer<5>(), h);
            h = xtnn::apply(model.layer<6>(), h);
            h = xtnn::apply(model.layer<7>(), h);
            h = xtnn::apply(model.layer<8>(), h);
            const xtnn::tensor<float, 4> fused = model.forward(x);
            CHECK(model.layer<0>().algorithm() ==
                  (level == xtnn::simd_level::portable           ? xtnn::conv_algorithm::unfold
                   : algorithm == xtnn::conv_algorithm::winograd ? xtnn::conv_algorithm::winograd
                                                                 : xtnn::conv_algorithm::direct));
            // Without running statistics a batch norm normalizes by the batch: only the last
            // one (with them) fuses.
            CHECK(model.fused_layers() == (running ? 2 + 1 + 1 : 1));
            REQUIRE(fused.shape() == h.shape());
            CHECK(xtnn::test::max_abs_difference(fused, h) <= 1e-5 * xt::amax(xt::abs(h))());
            // Training runs every layer apart; the next inference fuses again.
            (void)model.forward(x, xtnn::mode::training);
            CHECK(model.fused_layers() == 0);
            (void)model.forward(x);
            CHECK(model.fused_layers() == (running ? 4 : 1));
            xtnn::set_simd(before);
        }
    }
}
