#include <catch2/catch.hpp>

#include <xtnn/optimizers/sgd.hpp>

#include "support/optimizer_fixture.hpp"

TEST_CASE("sgd: plain, momentum and Nesterov steps by hand", "[optimizers][sgd]") {
    struct expectation {
        xtnn::sgd_options options;
        double w1, w2;
    };
    // w = 1, gradient 0.5 at every step, learning rate 0.1.
    const std::vector<expectation> cases{
        {{.learning_rate = 0.1}, 0.95, 0.9},
        {{.learning_rate = 0.1, .momentum = 0.9}, 0.95, 0.855},
        {{.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}, 0.905, 0.7695},
        {{.learning_rate = 0.1, .weight_decay = 0.1}, 0.94, 0.94 - 0.1 * (0.5 + 0.094)},
    };
    for (const auto& c : cases) {
        xtnn::sgd<double> opt(c.options);
        xtnn::test::hand_parameter<double> p({1.0});
        p.gradient[0] = 0.5;
        opt.step(p.views);
        CHECK(p.value[0] == Approx(c.w1));
        opt.step(p.views);
        CHECK(p.value[0] == Approx(c.w2));
        CHECK(opt.iterations() == 2);
    }
}

TEST_CASE("sgd: reaches the minimum of a quadratic", "[optimizers][sgd]") {
    const std::vector<double> c{1.0, -2.0, 0.5};
    xtnn::sgd<double> plain({.learning_rate = 0.1});
    xtnn::sgd<double> nesterov({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
    for (auto w : {xtnn::test::minimize_quadratic(plain, c, 200),
                   xtnn::test::minimize_quadratic(nesterov, c, 200)}) {
        for (std::size_t i = 0; i < c.size(); ++i) {
            CHECK(w[i] == Approx(c[i]).margin(1e-6));
        }
    }
}

TEST_CASE("sgd: the learning rate can change between steps", "[optimizers][sgd]") {
    xtnn::sgd<float> opt({.learning_rate = 0.1});
    xtnn::test::hand_parameter<float> p({1.0f});
    p.gradient[0] = 1.0f;
    opt.step(p.views);
    opt.set_learning_rate(0.5);
    CHECK(opt.learning_rate() == 0.5);
    opt.step(p.views);
    CHECK(p.value[0] == Approx(0.4f));
    REQUIRE_THROWS_MATCHES(opt.set_learning_rate(-0.01), xtnn::config_error,
                           Catch::Message("sgd: learning_rate must be > 0 and finite, got -0.01"));
}

TEST_CASE("sgd: impossible options are rejected", "[optimizers][sgd]") {
    REQUIRE_THROWS_MATCHES(xtnn::sgd<float>({.learning_rate = 0}), xtnn::config_error,
                           Catch::Message("sgd: learning_rate must be > 0 and finite, got 0"));
    REQUIRE_THROWS_AS(xtnn::sgd<float>({.momentum = 1.0}), xtnn::config_error);
    REQUIRE_THROWS_AS(xtnn::sgd<float>({.weight_decay = -1}), xtnn::config_error);
    REQUIRE_THROWS_WITH(xtnn::sgd<float>({.nesterov = true}),
                        Catch::Contains("momentum (with nesterov) must be > 0"));
}

TEST_CASE("sgd: state is by position and checked", "[optimizers][sgd]") {
    xtnn::sgd<double> opt({.momentum = 0.5});
    xtnn::test::hand_parameter<double> a({1.0, 2.0});
    opt.step(a.views);
    xtnn::test::hand_parameter<double> b({1.0, 2.0, 3.0});
    REQUIRE_THROWS_WITH(opt.step(b.views), Catch::Contains("parameter 0 ('w') changed size"));
    opt.reset();
    CHECK(opt.iterations() == 0);
    REQUIRE_NOTHROW(opt.step(b.views));
}
