// Must not compile: each case passes a tensor of the wrong rank, scalar type or kind to one
// public entry point. Before the checks, a rank-3 tensor bound to `const tensor<float, 2>&`
// through xtensor's implicit conversion and overflowed a 2-extent shape array.
// tests/CMakeLists.txt compiles this file once per case (-DXTNN_CASE_<name>) and expects the
// case's sentence.
#include <cstdint>
#include <vector>

#include <xtensor/xarray.hpp>

#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense{4, 3}, xtnn::relu{}, xtnn::dense{3, 2}};
    xtnn::tensor<float, 1> rank1(xtnn::shape<1>{4});
    xtnn::tensor<float, 2> rank2(xtnn::shape<2>{5, 4});
    xtnn::tensor<float, 3> rank3(xtnn::shape<3>{5, 4, 1});
    xtnn::tensor<std::int64_t, 1> labels(xtnn::shape<1>{5});
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    xtnn::sequential one_output{xtnn::dense{4, 1}};
    xtnn::trainer regression{one_output, xtnn::mean_squared_error{}, xtnn::adam()};
    xtnn::tensor<float, 2> rank2_targets(xtnn::shape<2>{5, 1});
    xtnn::tensor<float, 1> rank1_targets(xtnn::shape<1>{5});
    (void)rank1, (void)rank2, (void)rank3, (void)labels, (void)rank2_targets, (void)rank1_targets;
#if defined(XTNN_CASE_control)
    // The right types compile (the control: every case below differs from it in one tensor).
    model.forward(rank2);
    model.forward(rank2, {});
    xtnn::tensor<float, 2> out;
    model.forward(rank2, out, xtnn::mode::training);
    model.backward(rank2, out);
    model.backward(rank2, out, out, nullptr);
    xtnn::predict(model, rank2);
    xtnn::predict(model, rank1); // one sample
    xtnn::predict_classes(model, rank2);
    trainer.fit(rank2, labels, xtnn::validation_data{rank2, labels});
    trainer.evaluate(rank2, labels);
    trainer.fit(rank2, labels, {.epochs = 1});
    xtnn::early_stopping stop;
    trainer.fit(rank2, labels, {.epochs = 1}, stop, xtnn::early_stopping{});
    trainer.evaluate(rank2, labels, {.batch_size = 2});
    std::size_t rows[] = {0, 1};
    xtnn::tensor<float, 3> batch;
    xtnn::gather_rows(rank3, std::span<const std::size_t>(rows), batch);
    xtnn::to_features(xtnn::tensor<std::uint8_t, 3>(xtnn::shape<3>{1, 28, 28}));
    xtnn::tensor<float, 2> g;
    xtnn::mean_squared_error{}.value_and_gradient(rank2, rank2, g);
    xtnn::softmax_cross_entropy{}.value(rank2, labels);
    xtnn::accuracy metric;
    metric.update(rank2, labels);
    static_assert(xtnn::loss<xtnn::huber, xtnn::tensor<float, 2>, xtnn::tensor<float, 2>>);
    static_assert(xtnn::loss<xtnn::huber, xtnn::tensor<float, 2>, xtnn::tensor<float, 1>>);
    static_assert(!xtnn::loss<xtnn::huber, xtnn::tensor<float, 2>, xtnn::tensor<float, 3>>);
    static_assert(xtnn::weighted_loss<xtnn::huber, xtnn::tensor<float, 2>, xtnn::tensor<float, 2>>);
    std::vector<float> weights(5, 1.0f);
    xtnn::mean_squared_error{}.value_and_gradient(rank2, rank1, g, weights);
    regression.fit(rank2, rank2_targets);
    regression.evaluate(rank2, rank1_targets);
    static_assert(!xtnn::metric<xtnn::accuracy, xtnn::tensor<float, 3>, decltype(labels)>);
#elif defined(XTNN_CASE_forward_rank3)
    model.forward(rank3);
#elif defined(XTNN_CASE_forward_rank1)
    model.forward(rank1);
#elif defined(XTNN_CASE_forward_buffer)
    xtnn::tensor<float, 2> y;
    model.forward(rank3, y);
#elif defined(XTNN_CASE_forward_braced_mode)
    model.forward(rank3, {});
#elif defined(XTNN_CASE_forward_mask)
    model.forward(rank2, rank3);
#elif defined(XTNN_CASE_backward_mask)
    model.backward(rank2, rank3, rank2);
#elif defined(XTNN_CASE_backward_gradient)
    model.backward(rank2, rank3);
#elif defined(XTNN_CASE_backward_layer)
    model.backward(rank2, rank3, rank2, nullptr);
#elif defined(XTNN_CASE_predict_rank3)
    xtnn::predict(model, rank3);
#elif defined(XTNN_CASE_predict_double)
    xtnn::predict(model, xtnn::tensor<double, 2>(xtnn::shape<2>{5, 4}));
#elif defined(XTNN_CASE_predict_xarray)
    xtnn::predict(model, xt::xarray<float>(rank2));
#elif defined(XTNN_CASE_predict_classes)
    xtnn::predict_classes(model, rank3);
#elif defined(XTNN_CASE_predict_probabilities)
    xtnn::predict_probabilities(model, xtnn::tensor<float, 4>(xtnn::shape<4>{1, 1, 2, 2}));
#elif defined(XTNN_CASE_fit_rank3)
    trainer.fit(rank3, labels);
#elif defined(XTNN_CASE_fit_braced_options)
    trainer.fit(rank3, labels, {.epochs = 1});
#elif defined(XTNN_CASE_evaluate_braced_options)
    trainer.evaluate(rank1, labels, {.batch_size = 2});
#elif defined(XTNN_CASE_predict_sample)
    xtnn::predict(model, xtnn::tensor<double, 1>(xtnn::shape<1>{4}));
#elif defined(XTNN_CASE_fit_not_callback)
    trainer.fit(rank2, labels, {.epochs = 1}, 42);
#elif defined(XTNN_CASE_fit_validation_late)
    trainer.fit(rank2, labels, {}, xtnn::validation_data{rank2, labels});
#elif defined(XTNN_CASE_fit_const_callback)
    const auto log = xtnn::lambda_callback(xtnn::hook::epoch_end, [](auto&) {});
    trainer.fit(rank2, labels, {}, log);
#elif defined(XTNN_CASE_fit_targets)
    trainer.fit(rank2, xtnn::tensor<float, 1>(xtnn::shape<1>{5}));
#elif defined(XTNN_CASE_fit_validation)
    trainer.fit(rank2, labels, xtnn::validation_data{rank3, labels});
#elif defined(XTNN_CASE_evaluate_rank1)
    trainer.evaluate(rank1, labels);
#elif defined(XTNN_CASE_trainer_predict)
    trainer.predict(rank3);
#elif defined(XTNN_CASE_check_gradients)
    xtnn::dense<double> layer(4, 2);
    xtnn::check_gradients(layer, xtnn::tensor<double, 3>(xtnn::shape<3>{2, 4, 1}));
#elif defined(XTNN_CASE_apply)
    xtnn::dense<float> layer(4, 2);
    xtnn::apply(layer, rank3);
#elif defined(XTNN_CASE_gather_rows)
    std::size_t rows[] = {0, 1};
    xtnn::gather_rows(rank3, std::span<const std::size_t>(rows), rank2);
#elif defined(XTNN_CASE_to_features)
    xtnn::to_features(xtnn::tensor<std::uint8_t, 2>(xtnn::shape<2>{28, 28}));
#elif defined(XTNN_CASE_loss_targets)
    xtnn::mean_squared_error{}.value(rank2, rank3);
#elif defined(XTNN_CASE_loss_weights)
    xtnn::mean_squared_error{}.value(rank2, rank2, std::vector<double>(5));
#elif defined(XTNN_CASE_fit_regression_targets)
    regression.fit(rank2, rank3);
#elif defined(XTNN_CASE_evaluate_regression_targets)
    regression.evaluate(rank2, xtnn::tensor<double, 2>(xtnn::shape<2>{5, 1}));
#elif defined(XTNN_CASE_loss_gradient)
    xtnn::tensor<double, 2> g;
    xtnn::huber{}.value_and_gradient(rank2, rank2, g);
#elif defined(XTNN_CASE_softmax_float_labels)
    xtnn::softmax_cross_entropy{}.value(rank2, xtnn::tensor<float, 1>(xtnn::shape<1>{5}));
#elif defined(XTNN_CASE_softmax_logits)
    xtnn::softmax_cross_entropy{}.value(rank3, labels);
#elif defined(XTNN_CASE_metric_predictions)
    xtnn::accuracy metric;
    metric.update(rank3, labels);
#elif defined(XTNN_CASE_write_idx)
    xtnn::write_idx("labels.idx", xtnn::tensor<std::int64_t, 1>(xtnn::shape<1>{5}));
#elif defined(XTNN_CASE_to_images)
    xtnn::to_images(xtnn::tensor<float, 3>(xtnn::shape<3>{1, 28, 28}));
#else
#error "no XTNN_CASE_ defined"
#endif
}
