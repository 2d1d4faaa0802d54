#include <cstdint>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <xtnn/data/mnist.hpp>
#include <xtnn/io/idx.hpp>

#include "support/helpers.hpp"
#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// A small MNIST-layout dataset: images whose every pixel is 10 * label + index.
xtnn::mnist_split make_split(std::size_t samples, std::size_t size, std::uint8_t offset) {
    xtnn::mnist_split split{xtnn::tensor<std::uint8_t, 3>(xtnn::shape<3>{samples, size, size}),
                            xtnn::tensor<std::uint8_t, 1>(xtnn::shape<1>{samples})};
    for (std::size_t i = 0; i < samples; ++i) {
        split.labels(i) = static_cast<std::uint8_t>((i + offset) % 10);
        for (std::size_t p = 0; p < size * size; ++p) {
            split.images.data()[i * size * size + p] =
                static_cast<std::uint8_t>(10 * split.labels(i) + p % 7);
        }
    }
    return split;
}

void write_split(const fs::path& dir, const std::string& prefix, const xtnn::mnist_split& split,
                 const std::string& suffix = ".gz") {
    xtnn::write_idx(dir / (prefix + "-images-idx3-ubyte" + suffix), split.images);
    xtnn::write_idx(dir / (prefix + "-labels-idx1-ubyte" + suffix), split.labels);
}

} // namespace

TEST_CASE("mnist: load_mnist reads the four standard files, plain or gzip", "[data][mnist]") {
    xtnn::test::scratch_directory dir;
    const auto train = make_split(12, 28, 0);
    const auto test = make_split(5, 28, 3);
    const std::string suffix = GENERATE(std::string(".gz"), std::string(""));
    write_split(dir.path, "train", train, suffix);
    write_split(dir.path, "t10k", test, suffix);

    const auto data = xtnn::load_mnist(dir.path);
    CHECK(xtnn::test::equal(data.train.images, train.images));
    CHECK(xtnn::test::equal(data.train.labels, train.labels));
    CHECK(xtnn::test::equal(data.test.images, test.images));
    CHECK(xtnn::test::equal(data.test.labels, test.labels));
}

TEST_CASE("mnist: the dotted file names some copies use are found too", "[data][mnist]") {
    xtnn::test::scratch_directory dir;
    const auto split = make_split(3, 4, 0);
    xtnn::write_idx(dir.path / "train-images.idx3-ubyte", split.images);
    xtnn::write_idx(dir.path / "train-labels.idx1-ubyte", split.labels);
    xtnn::write_idx(dir.path / "t10k-images.idx3-ubyte", split.images);
    xtnn::write_idx(dir.path / "t10k-labels.idx1-ubyte", split.labels);
    CHECK(xtnn::load_mnist(dir.path).train.images.shape(1) == 4);
}

TEST_CASE("mnist: inconsistent datasets are rejected with the file and the reason",
          "[data][mnist]") {
    xtnn::test::scratch_directory dir;
    auto train = make_split(12, 28, 0);
    auto test = make_split(5, 28, 0);

    SECTION("no such directory") {
        CHECK_THROWS_WITH(xtnn::load_mnist(dir.path / "nowhere"),
                          Contains("nowhere': no such directory"));
    }
    SECTION("a missing file") {
        write_split(dir.path, "train", train);
        CHECK_THROWS_WITH(xtnn::load_mnist(dir.path),
                          Contains("no file t10k-images-idx3-ubyte (or "
                                   "t10k-images-idx3-ubyte.gz); an MNIST directory holds"));
    }
    SECTION("a label out of range") {
        train.labels(7) = 12;
        write_split(dir.path, "train", train);
        write_split(dir.path, "t10k", test);
        CHECK_THROWS_WITH(xtnn::load_mnist(dir.path),
                          Contains("train-labels-idx1-ubyte.gz': label 12 at index 7 is out of "
                                   "range; expected 0 to 9"));
        CHECK_NOTHROW(xtnn::load_mnist(dir.path, 13)); // a 13-class dataset is fine
    }
    SECTION("fewer labels than images") {
        write_split(dir.path, "train", train);
        write_split(dir.path, "t10k", test);
        xtnn::write_idx(dir.path / "t10k-labels-idx1-ubyte.gz",
                        xtnn::tensor<std::uint8_t, 1>{1, 2, 3});
        CHECK_THROWS_WITH(xtnn::load_mnist(dir.path),
                          Contains("label count mismatch; expected 5 (one per image of "
                                   "'t10k-images-idx3-ubyte.gz'), got 3"));
    }
    SECTION("test images of another size") {
        write_split(dir.path, "train", train);
        write_split(dir.path, "t10k", make_split(5, 32, 0));
        CHECK_THROWS_WITH(xtnn::load_mnist(dir.path),
                          Contains("test images differ in size from training images; expected "
                                   "(28, 28), got (32, 32)"));
    }
    SECTION("a damaged file") {
        write_split(dir.path, "train", train);
        write_split(dir.path, "t10k", test, "");
        fs::resize_file(dir.path / "t10k-images-idx3-ubyte", 1000);
        CHECK_THROWS_WITH(xtnn::load_mnist(dir.path),
                          Contains("t10k-images-idx3-ubyte': truncated; dimensions (5, 28, 28)"));
    }
}

TEST_CASE("mnist: to_features scales to [0, 1] and flattens, to_images adds a channel",
          "[data][mnist]") {
    const xtnn::tensor<std::uint8_t, 3> images = {{{0, 255}, {51, 102}}, {{1, 2}, {3, 4}}};
    const auto features = xtnn::to_features(images);
    REQUIRE(features.shape() == xtnn::shape<2>{2, 4});
    CHECK(features(0, 0) == 0.0f);
    CHECK(features(0, 1) == 1.0f);
    CHECK(features(0, 2) == Approx(0.2f));
    CHECK(features(0, 3) == Approx(0.4f));
    CHECK(features(1, 3) == 4.0f / 255.0f);

    const auto nchw = xtnn::to_images<double>(images);
    REQUIRE(nchw.shape() == xtnn::shape<4>{2, 1, 2, 2});
    CHECK(nchw(1, 0, 1, 0) == 3.0 / 255.0);
    CHECK(nchw(0, 0, 0, 1) == 1.0);
}
