/// @file
/// MNIST: load_mnist() for the four standard IDX files, and the pixel scaling models expect.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/io/idx.hpp>

namespace xtnn {

/// Images and their labels: one part (train or test) of an MNIST-layout dataset.
/// @ingroup data
struct mnist_split {
    tensor<std::uint8_t, 3> images; ///< (samples, rows, columns); 0 is background, 255 ink.
    tensor<std::uint8_t, 1> labels; ///< (samples), class indices below the class count.
};

/// An MNIST-layout dataset: the training and the test split.
/// @ingroup data
struct mnist_dataset {
    mnist_split train; ///< From train-images-idx3-ubyte and train-labels-idx1-ubyte.
    mnist_split test;  ///< From t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte.
};

/// Reads one images file (unsigned bytes, rank 3) and its labels file (unsigned bytes, rank
/// 1), plain or gzip, and checks that they belong together: one label per image, every
/// label below `classes`.
/// @throws io_error naming the file and the problem (see read_idx()), a count mismatch or the
/// first label out of range with its index.
/// @ingroup data
inline mnist_split load_mnist_split(const std::filesystem::path& images_path,
                                    const std::filesystem::path& labels_path,
                                    std::size_t classes = 10) {
    mnist_split split{read_idx<std::uint8_t, 3>(images_path),
                      read_idx<std::uint8_t, 1>(labels_path)};
    const std::size_t samples = split.images.shape(0);
    if (split.labels.size() != samples) {
        throw io_error("load_mnist: '" + labels_path.string() +
                       "': label count mismatch; expected " + std::to_string(samples) +
                       " (one per image of '" + images_path.filename().string() + "'), got " +
                       std::to_string(split.labels.size()));
    }
    const auto* bad = std::find_if(split.labels.begin(), split.labels.end(),
                                   [classes](std::uint8_t label) { return label >= classes; });
    if (bad != split.labels.end()) {
        throw io_error("load_mnist: '" + labels_path.string() + "': label " + std::to_string(*bad) +
                       " at index " + std::to_string(bad - split.labels.begin()) +
                       " is out of range; expected 0 to " + std::to_string(classes - 1));
    }
    return split;
}

namespace detail {

/// The file for a standard MNIST name in `directory`: "train-images-idx3-ubyte" with or
/// without ".gz", or with a dot before "idx" as some copies spell it.
inline std::filesystem::path find_mnist_file(const std::filesystem::path& directory,
                                             const std::string& name) {
    std::string dotted = name;
    dotted[dotted.find("-idx")] = '.';
    for (const std::string& candidate : {name + ".gz", name, dotted + ".gz", dotted}) {
        std::error_code error;
        if (std::filesystem::is_regular_file(directory / candidate, error)) {
            return directory / candidate;
        }
    }
    throw io_error("load_mnist: '" + directory.string() + "': no file " + name + " (or " + name +
                   ".gz); an MNIST directory holds train-images-idx3-ubyte, "
                   "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, "
                   "plain or gzip");
}

/// Writes pixel / 255 for every byte of `images` to `out`.
template <std::floating_point T>
void scale_pixels(const tensor<std::uint8_t, 3>& images, T* out) {
    std::transform(images.data(), images.data() + images.size(), out,
                   [](std::uint8_t v) { return static_cast<T>(v) / T(255); });
}

} // namespace detail

/// Loads an MNIST-layout dataset from the four standard files in `directory`:
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte`, each plain or gzip-compressed (".gz"). The classic MNIST,
/// Fashion-MNIST and any dataset saved in that layout load alike.
///
/// Every file is checked (see read_idx()): one label per image, labels below `classes`, and
/// train and test images of the same size.
/// @throws io_error naming the directory or file and the problem.
/// @code
/// auto mnist = xtnn::load_mnist("data/mnist");
/// auto x_train = xtnn::to_features(mnist.train.images); // (N, 784) floats in [0, 1]
/// auto& y_train = mnist.train.labels;                   // (N) digits
/// @endcode
/// @ingroup data
inline mnist_dataset load_mnist(const std::filesystem::path& directory, std::size_t classes = 10) {
    std::error_code error;
    const auto status = std::filesystem::status(directory, error);
    if (error && error != std::errc::no_such_file_or_directory) {
        throw io_error("load_mnist: '" + directory.string() +
                       "': cannot examine the directory: " + error.message());
    }
    if (!std::filesystem::is_directory(status)) {
        throw io_error("load_mnist: '" + directory.string() + "': " +
                       (std::filesystem::exists(status) ? "not a directory" : "no such directory"));
    }
    const auto train_images = detail::find_mnist_file(directory, "train-images-idx3-ubyte");
    const auto train_labels = detail::find_mnist_file(directory, "train-labels-idx1-ubyte");
    const auto test_images = detail::find_mnist_file(directory, "t10k-images-idx3-ubyte");
    const auto test_labels = detail::find_mnist_file(directory, "t10k-labels-idx1-ubyte");
    mnist_dataset data{load_mnist_split(train_images, train_labels, classes),
                       load_mnist_split(test_images, test_labels, classes)};
    const std::array<std::size_t, 2> train_size{data.train.images.shape(1),
                                                data.train.images.shape(2)};
    const std::array<std::size_t, 2> test_size{data.test.images.shape(1),
                                               data.test.images.shape(2)};
    if (train_size != test_size) {
        throw io_error(detail::mismatch_message("load_mnist: '" + directory.string() + "'",
                                                "test images differ in size from training images",
                                                format_shape(train_size), format_shape(test_size)));
    }
    return data;
}

/// Scales pixels to [0, 1] (divides by 255) and flattens each image into a row: (N, rows,
/// columns) bytes become (N, rows × columns) features, the input of a dense network.
/// @ingroup data
template <std::floating_point T = float>
tensor<T, 2> to_features(const tensor<std::uint8_t, 3>& images) {
    tensor<T, 2> features(shape<2>{images.shape(0), images.shape(1) * images.shape(2)});
    detail::scale_pixels(images, features.data());
    return features;
}

/// Scales pixels to [0, 1] and adds a channel axis: (N, rows, columns) bytes become
/// (N, 1, rows, columns), the input layout of convolutional networks.
/// @ingroup data
template <std::floating_point T = float>
tensor<T, 4> to_images(const tensor<std::uint8_t, 3>& images) {
    tensor<T, 4> out(shape<4>{images.shape(0), 1, images.shape(1), images.shape(2)});
    detail::scale_pixels(images, out.data());
    return out;
}

/// @cond XTNN_DETAIL
// Any other images: xtensor would convert them implicitly (another rank corrupts memory), so
// these exact matches win and name what the functions take.
template <std::floating_point T = float, class Images>
requires(!std::same_as<Images, tensor<std::uint8_t, 3>>) detail::rejected
    to_features(const Images&) {
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: to_features: takes", "images", images, Images, std::uint8_t,
                               3);
    return {};
}
template <std::floating_point T = float, class Images>
requires(!std::same_as<Images, tensor<std::uint8_t, 3>>) detail::rejected to_images(const Images&) {
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: to_images: takes", "images", images, Images, std::uint8_t, 3);
    return {};
}
/// @endcond

} // namespace xtnn
