/// @file
/// The ONNX forms of dropout and random_affine: nothing, as both are the identity at
/// inference (the reader sees through a Dropout or Identity node an exporter writes).
#pragma once

#include <cstddef>
#include <string>

#include <xtnn/layers/dropout.hpp>
#include <xtnn/layers/random_affine.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

namespace detail {
/// A layer that is the identity at inference: no node.
template <class T, class L>
struct onnx_inference_identity {
    /// Nothing: the output is x.
    static std::string emit(onnx_writer<T>&, L&, const onnx_place&, const std::string& x) {
        return x;
    }
    /// Nothing: the output is x.
    static std::string match(onnx_reader<T>&, L&, const onnx_place&, const std::string& x,
                             std::size_t&) {
        return x;
    }
};
} // namespace detail

/// dropout: nothing (the identity at inference).
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<dropout_layer<T, N>> : detail::onnx_inference_identity<T, dropout_layer<T, N>> {};

/// random_affine: nothing (augmentation, the identity at inference).
/// @ingroup onnx
template <class T>
struct onnx_form<random_affine<T>> : detail::onnx_inference_identity<T, random_affine<T>> {};

} // namespace xtnn
