#include <string>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

TEST_CASE("describe: every built-in layer and activation names its kind and options",
          "[description]") {
    CHECK(xtnn::describe(xtnn::dense<float>{784, 128}).to_string() ==
          "dense(in=784, out=128, bias=true)");
    CHECK(xtnn::describe(xtnn::conv2d<float>{{.in_channels = 1,
                                              .out_channels = 32,
                                              .kernel_size = {3, 5},
                                              .stride = 2,
                                              .padding = {1, 2},
                                              .dilation = 1,
                                              .bias = false}})
              .to_string() == "conv2d(in_channels=1, out_channels=32, kernel_size=(3, 5), "
                              "stride=(2, 2), padding=(1, 2), dilation=(1, 1), bias=false)");
    CHECK(xtnn::describe(
              xtnn::conv2d<float>{{.in_channels = 2, .out_channels = 4, .padding = "same"}})
              .to_string() == "conv2d(in_channels=2, out_channels=4, kernel_size=(3, 3), "
                              "stride=(1, 1), padding=same, dilation=(1, 1), bias=true)");

    // Specs bind inside a sequential: the described layers are the bound ones.
    xtnn::sequential model{
        xtnn::conv2d{1, 8, 3},
        xtnn::batch_norm2d{8},
        xtnn::leaky_relu{0.2},
        xtnn::max_pool2d{},
        xtnn::avg_pool2d{.kernel_size = 3, .stride = 1, .padding = 1, .count_include_pad = false},
        xtnn::global_avg_pool2d{},
        xtnn::dropout{0.25},
        xtnn::dense{8, 4},
        xtnn::elu{},
        xtnn::gelu{.approximate = true},
        xtnn::residual{xtnn::sequential{xtnn::dense{4, 4}, xtnn::tanh{}}},
        xtnn::residual{xtnn::dense{4, 2}, xtnn::dense{4, 2}},
        xtnn::log_softmax{}};
    const auto d = xtnn::describe(model);
    REQUIRE(d.kind == "sequential");
    REQUIRE(d.layers.size() == 13);
    const std::string expected[] = {
        "conv2d(in_channels=1, out_channels=8, kernel_size=(3, 3), stride=(1, 1), "
        "padding=(0, 0), dilation=(1, 1), bias=true)",
        "batch_norm2d(num_features=8, eps=1e-05, momentum=0.1, affine=true, "
        "track_running_stats=true)",
        "leaky_relu(negative_slope=0.2)",
        "max_pool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))", // stride 0: the kernel
        "avg_pool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=false)",
        "global_avg_pool2d",
        "dropout(rate=0.25)",
        "dense(in=8, out=4, bias=true)",
        "elu(alpha=1)",
        "gelu(approximate=true)",
        "residual(sequential(dense(in=4, out=4, bias=true), tanh))",
        "residual(dense(in=4, out=2, bias=true), dense(in=4, out=2, bias=true))",
        "log_softmax"};
    for (std::size_t i = 0; i < 13; ++i) {
        CHECK(d.layers[i].to_string() == expected[i]);
    }
    CHECK(d.layers[7].option("out") != nullptr);
    CHECK(std::get<std::int64_t>(*d.layers[7].option("out")) == 4);
    CHECK(d.layers[7].option("units") == nullptr);

    const auto a = xtnn::architecture_of(model);
    CHECK(a.dtype == "float32");
    CHECK(a.xtnn_version == std::to_string(XTNN_VERSION_MAJOR) + "." +
                                std::to_string(XTNN_VERSION_MINOR) + "." +
                                std::to_string(XTNN_VERSION_PATCH));
    xtnn::sequential doubles{xtnn::dense<double>{2, 2}};
    CHECK(xtnn::architecture_of(doubles).dtype == "float64");
}

namespace {

// A layer of a user's own, without describe(): described by its name.
struct user_layer : xtnn::layer_base<user_layer, float, 2, 2> {
    static constexpr std::string_view name = "user_scale";
    xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const { return input; }

  private:
    friend xtnn::layer_access;
    void compute_forward(const xtnn::tensor<float, 2>& x, xtnn::tensor<float, 2>& y,
                         xtnn::mode) const {
        y = 2.0f * x;
    }
    void compute_backward(const xtnn::tensor<float, 2>&, const xtnn::tensor<float, 2>&,
                          const xtnn::tensor<float, 2>& dy, xtnn::tensor<float, 2>* dx) const {
        if (dx != nullptr) {
            *dx = 2.0f * dy;
        }
    }
};

} // namespace

TEST_CASE("describe: a layer without describe() is its name", "[description]") {
    CHECK(xtnn::describe(user_layer{}).to_string() == "user_scale");
    xtnn::sequential model{xtnn::dense{3, 3}, user_layer{}};
    CHECK(xtnn::describe(model).to_string() ==
          "sequential(dense(in=3, out=3, bias=true), user_scale)");
}

TEST_CASE("model_architecture: first_difference names the first differing layer and both sides",
          "[description]") {
    using xtnn::dense;
    const auto a = xtnn::architecture_of(
        xtnn::sequential{dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2}, dense{128, 10}});
    CHECK_FALSE(a.first_difference(a, "the file", "the model").has_value());

    const auto tanh = xtnn::architecture_of(
        xtnn::sequential{dense{784, 128}, xtnn::tanh{}, xtnn::dropout{0.2}, dense{128, 10}});
    CHECK(a.first_difference(tanh, "the file", "the model") ==
          "layer 1 differs: the file has relu, the model has tanh");

    const auto rate = xtnn::architecture_of(
        xtnn::sequential{dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.5}, dense{128, 10}});
    CHECK(a.first_difference(rate, "the file", "the model") ==
          "layer 2 differs: the file has dropout(rate=0.2), the model has dropout(rate=0.5)");

    const auto longer = xtnn::architecture_of(xtnn::sequential{
        dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2}, dense{128, 10}, xtnn::softmax{}});
    CHECK(a.first_difference(longer, "the file", "the model") ==
          "layer 4 differs: the file has nothing (4 layers), the model has softmax");

    const auto nested = xtnn::architecture_of(
        xtnn::sequential{dense{4, 4}, xtnn::residual{xtnn::sequential{dense{4, 4}, xtnn::relu{}}}});
    const auto nested_other = xtnn::architecture_of(xtnn::sequential{
        dense{4, 4}, xtnn::residual{xtnn::sequential{dense{4, 4}, xtnn::sigmoid{}}}});
    CHECK(nested.first_difference(nested_other, "the file", "the model") ==
          "layer 1.0.1 differs: the file has relu, the model has sigmoid");

    const auto doubles = xtnn::architecture_of(xtnn::sequential{
        dense<double>{784, 128}, xtnn::relu{}, xtnn::dropout{0.2}, dense<double>{128, 10}});
    CHECK(a.first_difference(doubles, "the file", "the model") ==
          "the file holds float32 parameters, the model has float64");
}

TEST_CASE("from_description: builds the model a description records, the inverse of describe",
          "[description]") {
    xtnn::sequential model{
        xtnn::random_affine<float>({.translation = 0.1, .rotation = 0.03, .zoom = 0.05}),
        xtnn::conv2d<float>({.in_channels = 1,
                             .out_channels = 8,
                             .kernel_size = {3, 5},
                             .stride = 1,
                             .padding = "same",
                             .bias = false}),
        xtnn::batch_norm2d{.num_features = 8, .eps = 1e-3, .momentum = 0.2},
        xtnn::leaky_relu{0.2},
        xtnn::max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1},
        xtnn::avg_pool2d{.kernel_size = 3, .stride = 1, .padding = 1, .count_include_pad = false},
        xtnn::global_avg_pool2d{},
        xtnn::dropout{0.25},
        xtnn::dense{8, 4},
        xtnn::batch_norm1d{.num_features = 4, .affine = false},
        xtnn::elu{.alpha = 0.5},
        xtnn::gelu{.approximate = true},
        xtnn::residual{xtnn::sequential{xtnn::dense{4, 4}, xtnn::tanh{}}},
        xtnn::residual{xtnn::dense{4, 2}, xtnn::dense<float>({.in = 4, .out = 2, .bias = false})},
        xtnn::log_softmax{}};
    using model_type = decltype(model);
    const auto d = xtnn::describe(model);
    const auto built = xtnn::from_description<model_type>(d);
    CHECK(xtnn::describe(built) == d);
    CHECK(built.layer<1>().options().padding.same);
    CHECK(built.layer<1>().options().kernel_size.width == 5);
    CHECK(built.layer<7>().rate() == 0.25);
    CHECK(built.layer<10>().options().alpha == 0.5);
    // The description went through a weight file's record and back: still the same model.
    const auto record = xtnn::detail::architecture_to_json(xtnn::architecture_of(model));
    const auto read = xtnn::detail::architecture_from_json(record, "test");
    CHECK(xtnn::describe(xtnn::from_description<model_type>(read.model)) == d);

    // Options the description does not mention keep their defaults (what an older file meant).
    xtnn::layer_description short_dense{"dense"};
    short_dense.with("in", 3).with("out", 2);
    const auto dense = xtnn::from_description<xtnn::dense<float>>(short_dense);
    CHECK(dense.options().bias);
    CHECK(dense.out_features() == 2);
}

TEST_CASE("from_description: a description of another model names the first differing layer",
          "[description]") {
    using mlp = xtnn::sequential<xtnn::dense<float>, xtnn::relu, xtnn::dropout, xtnn::dense<float>>;
    const auto good = xtnn::describe(xtnn::sequential{xtnn::dense{784, 64}, xtnn::relu{},
                                                      xtnn::dropout{0.2}, xtnn::dense{64, 10}});
    CHECK(xtnn::from_description<mlp>(good).layer<0>().out_features() == 64);
    const auto fails_with = [](const xtnn::layer_description& d) {
        try {
            (void)xtnn::from_description<mlp>(d);
        } catch (const xtnn::config_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };

    auto other = good;
    other.layers[1] = xtnn::layer_description{"tanh"};
    CHECK(fails_with(other) == "from_description: layer 1: expected relu, got tanh");

    other = good;
    other.layers.pop_back();
    CHECK(fails_with(other) ==
          "from_description: the model: expected a sequential of 4 layers, got one of 3");

    other = good;
    other.layers[3].options[1].second = std::string("ten");
    CHECK(fails_with(other) == "from_description: layer 3 (dense): option 'out' must be a whole "
                               "number >= 0, got ten");

    other = good;
    other.layers[3].options[1].second = std::int64_t{-10};
    CHECK(fails_with(other) == "from_description: layer 3 (dense): option 'out' must be a whole "
                               "number >= 0, got -10");

    other = good;
    other.layers[2].with("units", 3);
    CHECK(fails_with(other) == "from_description: layer 2 (dropout): dropout has no option "
                               "'units' (its options: rate)");

    other = good;
    other.layers[1].with("rate", 0.5);
    CHECK(fails_with(other) == "from_description: layer 1 (relu): relu has no option 'rate' "
                               "(its options: none)");

    other = good;
    other.layers[0].with("in", 3);
    CHECK(fails_with(other) == "from_description: layer 0 (dense): option 'in' is given twice");

    // An impossible value is the layer's own error.
    other = good;
    other.layers[2].options[0].second = 2.0;
    CHECK_THROWS_WITH(xtnn::from_description<mlp>(other),
                      Catch::Contains("dropout") && Catch::Contains("rate"));

    // Nested: the index path.
    using nested =
        xtnn::sequential<xtnn::dense<float>,
                         xtnn::residual<xtnn::sequential<xtnn::dense<float>, xtnn::relu>>>;
    auto deep = xtnn::describe(xtnn::sequential{
        xtnn::dense{4, 4}, xtnn::residual{xtnn::sequential{xtnn::dense{4, 4}, xtnn::relu{}}}});
    CHECK(xtnn::describe(xtnn::from_description<nested>(deep)) == deep);
    deep.layers[1].layers[0].layers[1].kind = "sigmoid";
    CHECK_THROWS_WITH(xtnn::from_description<nested>(deep),
                      "from_description: layer 1.0.1: expected relu, got sigmoid");
}

TEST_CASE("equal_options: compares the described fields only", "[description]") {
    CHECK(xtnn::equal_options(xtnn::dense_options{.in = 3, .out = 2},
                              xtnn::dense_options{.in = 3, .out = 2, .seed = 9}));
    CHECK_FALSE(xtnn::equal_options(xtnn::dense_options{.in = 3, .out = 2},
                                    xtnn::dense_options{.in = 3, .out = 2, .bias = false}));
    CHECK(xtnn::equal_options(xtnn::max_pool2d{.kernel_size = 2}, xtnn::max_pool2d{}));
    CHECK_FALSE(xtnn::equal_options(xtnn::conv2d_options{.padding = "same"},
                                    xtnn::conv2d_options{.padding = 1}));
}
