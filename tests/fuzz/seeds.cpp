// Writes the seed corpora of the fuzz targets with xtnn's own writers, so that fuzzing starts
// from valid files: xtnn_fuzz_seeds DIR makes DIR/idx, DIR/npz, DIR/image and DIR/onnx.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <xtnn/io/idx.hpp>
#include <xtnn/io/npz.hpp>
#ifdef XTNN_FUZZ_ONNX
#include <xtnn/onnx.hpp>
#endif

#include "digit_image.hpp"
#include "fuzz_model.hpp"

namespace fs = std::filesystem;

namespace {

template <class T, std::size_t N>
void write_both(const fs::path& dir, const std::string& name, const xtnn::shape<N>& s) {
    xtnn::tensor<T, N> t(s);
    for (std::size_t i = 0; i < t.size(); ++i) {
        t.data()[i] = static_cast<T>((i * 37) % 101);
    }
    xtnn::write_idx(dir / (name + ".idx"), t);
    xtnn::write_idx(dir / (name + ".idx.gz"), t);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: xtnn_fuzz_seeds DIR\n");
        return 2;
    }
    const fs::path root = argv[1];
    for (const char* sub : {"idx", "npz", "record", "image", "onnx"}) {
        fs::create_directories(root / sub);
    }
    write_both<std::uint8_t, 3>(root / "idx", "images", {3, 4, 4});
    write_both<std::uint8_t, 1>(root / "idx", "labels", {10});
    write_both<std::int8_t, 2>(root / "idx", "i8", {2, 3});
    write_both<std::int16_t, 2>(root / "idx", "i16", {2, 3});
    write_both<std::int32_t, 1>(root / "idx", "i32", {5});
    write_both<float, 2>(root / "idx", "f32", {3, 2});
    write_both<double, 4>(root / "idx", "f64", {1, 2, 2, 2});

    auto model = xtnn::fuzz::make_model();
    xtnn::save_weights(model, root / "npz" / "model.npz");
    // Records: the models' own, and one nested deep and one wide (the limits' edges).
    const auto record = [&](const std::string& name, const std::string& text) {
        std::ofstream(root / "record" / name, std::ios::binary) << text;
    };
    record("mlp.json", xtnn::detail::architecture_to_json(xtnn::architecture_of(model)));
    record("convnet.json",
           xtnn::detail::architecture_to_json(xtnn::architecture_of(xtnn::fuzz::make_convnet())));
    record("residual.json",
           xtnn::detail::architecture_to_json(xtnn::architecture_of(xtnn::fuzz::make_residual())));
    const std::string head =
        R"({"format":"xtnn-architecture/1","xtnn_version":"0.1.0","dtype":"float32","model":)";
    std::string deep = head;
    for (int i = 0; i < 70; ++i) {
        deep += R"({"kind":"sequential","layers":[)";
    }
    deep += R"({"kind":"relu"})";
    for (int i = 0; i < 70; ++i) {
        deep += "]}";
    }
    record("deep.json", deep + "}");
    std::string wide = head + R"({"kind":"dense","options":{)";
    for (int i = 0; i < 1100; ++i) {
        wide += "\"k" + std::to_string(i) + "\":1,";
    }
    record("wide.json", wide + R"("in":1}}})");
#ifdef XTNN_FUZZ_ONNX
    // (PyTorch's exports of the same models are among the regressions.)
    xtnn::save_onnx(model, root / "onnx" / "mlp.onnx", {1, 4});
    auto convnet = xtnn::fuzz::make_convnet();
    xtnn::save_onnx(convnet, root / "onnx" / "convnet.onnx", {1, 1, 6, 6});
    auto residual = xtnn::fuzz::make_residual();
    xtnn::save_onnx(residual, root / "onnx" / "residual.onnx", {1, 4});
#endif

    mnist::gray_image page(xtnn::shape<2>{30, 40});
    page.fill(230);
    for (std::size_t i = 5; i < 25; ++i) {
        page(i, 12) = page(i, 13) = 20; // a "1"
        page(24, i + 5) = 40;
    }
    mnist::save_gray_image(page, root / "image" / "digit.png");
    mnist::save_gray_image(page, root / "image" / "digit.jpg");
    return 0;
}
