#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

#include "models.hpp"
#include "support/helpers.hpp"
#include "support/python.hpp"
#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;
using xtnn::test::scratch_directory;

namespace {

// ONNX's full check (shape inference included) in python3-onnx, and the names of the graph's
// initializers, inputs, outputs and operators.
std::string checked_summary(const fs::path& file) {
    return xtnn::test::run_python(
        "import onnx; m = onnx.load('" + file.string() +
        "'); onnx.checker.check_model(m, full_check=True); g = m.graph; "
        "print(m.opset_import[0].version, [i.name for i in g.input], [o.name for o in g.output], "
        "g.input[0].type.tensor_type.shape.dim[0].dim_param); "
        "print(' '.join(sorted(i.name for i in g.initializer))); "
        "print(' '.join(n.op_type for n in g.node))");
}

// The state dict's names (parameters and float buffers) of a model, sorted.
template <class Model>
std::string state_names(Model& model) {
    std::vector<std::string> names;
    for (const auto& p : model.parameters()) {
        names.push_back(p.name);
    }
    for (const auto& b : model.buffers()) {
        if (b.name.find("num_batches_tracked") == std::string::npos) {
            names.push_back(b.name);
        }
    }
    std::sort(names.begin(), names.end());
    std::string joined;
    for (const auto& n : names) {
        joined += (joined.empty() ? "" : " ") + n;
    }
    return joined;
}

// Saves `model`, checks the file with ONNX's checker and runs it in OpenCV on `x`: the same
// outputs as xtnn's within 1e-5 relative.
template <class Model, class X>
std::string export_and_compare(Model& model, const X& x, const fs::path& dir,
                               const std::string& name) {
    const fs::path file = dir / (name + ".onnx");
    xtnn::save_onnx(model, file, x.shape());
    const std::string summary = checked_summary(file);
    const auto expected = xtnn::predict(model, x);
    const fs::path raw = dir / (name + ".input");
    xtnn::test::write_raw(raw, x);
    xtnn::test::require_close(expected, xtnn::test::opencv_outputs(file, raw, x.shape()));
    return summary;
}

bool onnx_tools_ready() {
    return xtnn::test::python_ready("onnx, cv2, numpy", "python3-onnx, python3-opencv");
}

} // namespace

TEST_CASE("save_onnx: an MLP, checked by ONNX and run by OpenCV", "[onnx][save]") {
    if (!onnx_tools_ready()) {
        return;
    }
    scratch_directory dir;
    auto model = xtnn::test::onnx_mlp();
    model.initialize(3);
    const auto x = xtnn::test::random_tensor<float>(xtnn::shape<2>{5, 784}, 1, 0.0, 1.0);
    const auto summary = export_and_compare(model, x, dir.path, "mlp");
    CHECK(summary == "13 ['input'] ['output'] batch\n" + state_names(model) + "\nGemm Relu Gemm\n");
}

TEST_CASE("save_onnx: the Keras convnet with batch norm, checked and run by OpenCV",
          "[onnx][save]") {
    if (!onnx_tools_ready()) {
        return;
    }
    scratch_directory dir;
    auto model = xtnn::test::onnx_convnet();
    model.initialize(4);
    const auto x = xtnn::test::random_tensor<float>(xtnn::shape<4>{3, 1, 28, 28}, 2, 0.0, 1.0);
    xtnn::test::warm_up_statistics(model, x);
    const auto summary = export_and_compare(model, x, dir.path, "convnet");
    CHECK(summary == "13 ['input'] ['output'] batch\n" + state_names(model) +
                         "\nConv BatchNormalization Relu MaxPool Conv BatchNormalization Relu "
                         "MaxPool Flatten Gemm\n");
}

TEST_CASE("save_onnx: residual blocks as Add, checked and run by OpenCV", "[onnx][save]") {
    if (!onnx_tools_ready()) {
        return;
    }
    scratch_directory dir;
    auto model = xtnn::test::onnx_residual();
    model.initialize(5);
    const auto x = xtnn::test::random_tensor<float>(xtnn::shape<2>{4, 20}, 3);
    const auto summary = export_and_compare(model, x, dir.path, "residual");
    CHECK(summary == "13 ['input'] ['output'] batch\n" + state_names(model) +
                         "\nGemm Relu Gemm Relu Gemm Add Relu Gemm Tanh Gemm Add Gemm\n");
}

TEST_CASE("save_onnx: every other layer kind and activation", "[onnx][save]") {
    if (!onnx_tools_ready()) {
        return;
    }
    scratch_directory dir;
    auto images = xtnn::test::onnx_images();
    images.initialize(6);
    const auto x = xtnn::test::random_tensor<float>(xtnn::shape<4>{2, 2, 9, 8}, 4);
    xtnn::test::warm_up_statistics(images, x);
    const auto summary = export_and_compare(images, x, dir.path, "images");
    CHECK(summary.ends_with(
        "\nConv Elu Conv BatchNormalization LeakyRelu AveragePool Sigmoid "
        "Pad AveragePool MaxPool Softplus GlobalAveragePool Flatten Gemm Identity "
        "Softmax\n"));

    // gelu as its formulas, log_softmax, batch norm of features.
    auto features = xtnn::test::onnx_features();
    features.initialize(7);
    const auto f = xtnn::test::random_tensor<float>(xtnn::shape<2>{5, 6}, 5, -2.0, 2.0);
    xtnn::test::warm_up_statistics(features, f);
    const fs::path file = dir.path / "features.onnx";
    xtnn::save_onnx(features, file, f.shape());
    const auto checked = checked_summary(file);
    CHECK(checked.ends_with("\nGemm Div Erf Add Mul Mul BatchNormalization Gemm Mul Mul Mul Add "
                            "Mul Tanh Add Mul Mul Gemm LogSoftmax\n"));
    xtnn::test::write_raw(dir.path / "features.input", f);
    xtnn::test::require_close(
        xtnn::predict(features, f),
        xtnn::test::opencv_outputs(file, dir.path / "features.input", f.shape()));
}

TEST_CASE("save_onnx: refuses what ONNX cannot hold, naming the file and the layer",
          "[onnx][save]") {
    scratch_directory dir;
    const fs::path file = dir.path / "m.onnx";

    xtnn::sequential no_statistics{
        xtnn::dense{4, 4}, xtnn::batch_norm1d{.num_features = 4, .track_running_stats = false}};
    REQUIRE_THROWS_AS(xtnn::save_onnx(no_statistics, file, {1, 4}), xtnn::io_error);
    REQUIRE_THROWS_WITH(xtnn::save_onnx(no_statistics, file, {1, 4}),
                        Catch::Matchers::Contains(file.string()) &&
                            Catch::Matchers::Contains("layer 1 (batch norm without running "
                                                      "statistics) has no inference form"));
    CHECK_FALSE(fs::exists(file));

    auto model = xtnn::test::onnx_mlp();
    REQUIRE_THROWS_AS(xtnn::save_onnx(model, file, {1, 100}), xtnn::shape_error);
    REQUIRE_THROWS_AS(xtnn::save_onnx(model, dir.path / "missing" / "m.onnx", {1, 784}),
                      xtnn::io_error);

    // A failed save keeps the previous file.
    xtnn::save_onnx(model, file, {1, 784});
    const auto size = fs::file_size(file);
    REQUIRE_THROWS(xtnn::save_onnx(no_statistics, file, {1, 4}));
    CHECK(fs::file_size(file) == size);
}
