// Every type that takes options accepts T(), T({}) and T({.name = value}) alike (Keras users
// write all three; GCC found `T({})` ambiguous before core/options.hpp).
#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

namespace {

// The spelled forms give the same options as the defaults they stand for.
template <class Optimizer, class Options>
void check_optimizer_forms(const Options& designated) {
    const Optimizer plain;
    const Optimizer empty({});
    const Optimizer from_options(Options{});
    CHECK(plain.learning_rate() == from_options.learning_rate());
    CHECK(empty.learning_rate() == from_options.learning_rate());
    CHECK(Optimizer(designated).learning_rate() == designated.learning_rate);
}

} // namespace

TEST_CASE("options: optimizers take (), ({}) and designated initializers", "[core][options]") {
    check_optimizer_forms<xtnn::sgd<>>(xtnn::sgd_options{.learning_rate = 0.5});
    check_optimizer_forms<xtnn::adam<>>(xtnn::adam_options{.learning_rate = 0.5});
    check_optimizer_forms<xtnn::adamw<>>(xtnn::adam_options{.learning_rate = 0.5});
    check_optimizer_forms<xtnn::rmsprop<>>(xtnn::rmsprop_options{.learning_rate = 0.5});
    check_optimizer_forms<xtnn::adagrad<>>(xtnn::adagrad_options{.learning_rate = 0.5});

    // Through class template argument deduction, as users write them.
    auto adam = xtnn::adam({});
    auto adamw = xtnn::adamw({});
    auto sgd = xtnn::sgd({});
    auto rmsprop = xtnn::rmsprop({});
    auto adagrad = xtnn::adagrad({});
    STATIC_REQUIRE(std::same_as<decltype(adam), xtnn::adam<float>>);
    STATIC_REQUIRE(std::same_as<decltype(sgd), xtnn::sgd<float>>);
    CHECK(adam.options().learning_rate == 1e-3);
    CHECK(adamw.weight_decay() == 0.01); // the type's default, not adam's 0
    CHECK(sgd.options().learning_rate == 0.01);
    CHECK(rmsprop.options().learning_rate == xtnn::rmsprop_options{}.learning_rate);
    CHECK(adagrad.options().learning_rate == xtnn::adagrad_options{}.learning_rate);
    CHECK(xtnn::adam({.learning_rate = 0.2, .beta1 = 0.5}).options().beta1 == 0.5);
    CHECK(xtnn::sgd<double>({}).options().momentum == 0.0);
    // Options given as a variable still go to the options constructor.
    const xtnn::sgd_options momentum{.learning_rate = 0.1, .momentum = 0.9};
    CHECK(xtnn::sgd(momentum).options().momentum == 0.9);
}

TEST_CASE("options: callbacks take (), ({}) and designated initializers", "[core][options]") {
    xtnn::early_stopping stop_plain;
    auto stop_empty = xtnn::early_stopping({});
    auto stop_set = xtnn::early_stopping({.patience = 2});
    auto plateau_plain = xtnn::reduce_on_plateau();
    auto plateau_empty = xtnn::reduce_on_plateau({});
    auto plateau_set = xtnn::reduce_on_plateau({.factor = 0.5});
    auto checkpoint_empty = xtnn::model_checkpoint({});
    auto checkpoint_set = xtnn::model_checkpoint({.save_best_only = true});
    CHECK(stop_plain.best_epoch() == stop_empty.best_epoch());
    CHECK(checkpoint_empty.saved().empty());
    CHECK(checkpoint_set.saved().empty());
    (void)stop_set;
    (void)plateau_plain;
    (void)plateau_empty;
    (void)plateau_set;
    // Impossible options are still refused whichever form names them.
    CHECK_THROWS_AS(xtnn::reduce_on_plateau({.factor = 2.0}), xtnn::config_error);
}

TEST_CASE("options: losses and layer specs take (), ({}) and designated initializers",
          "[core][options]") {
    CHECK(xtnn::huber().delta == 1.0);
    CHECK(xtnn::huber({}).delta == 1.0);
    CHECK(xtnn::huber({.delta = 0.5}).delta == 0.5);
    CHECK_FALSE(xtnn::binary_cross_entropy({}).from_logits);
    CHECK(xtnn::binary_cross_entropy({.from_logits = true}).from_logits);
    CHECK(xtnn::dropout().rate == 0.5);
    CHECK(xtnn::dropout({}).rate == 0.5);
    CHECK(xtnn::dropout({.rate = 0.2}).rate == 0.2);
    CHECK(xtnn::dense({.in = 3, .out = 4}).options().out == 4);
    // A dense layer has no default size: ({}) is a clear error, not a 0x0 layer.
    CHECK_THROWS_AS(xtnn::dense({}), xtnn::config_error);
}
