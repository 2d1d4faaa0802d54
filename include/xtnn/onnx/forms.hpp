/// @file
/// The ONNX forms of every built-in layer (include/xtnn/onnx/forms/), one file per kind.
#pragma once

#include <xtnn/onnx/forms/activations.hpp>
#include <xtnn/onnx/forms/batch_norm.hpp>
#include <xtnn/onnx/forms/conv2d.hpp>
#include <xtnn/onnx/forms/dense.hpp>
#include <xtnn/onnx/forms/dropout.hpp>
#include <xtnn/onnx/forms/flatten.hpp>
#include <xtnn/onnx/forms/pooling.hpp>
#include <xtnn/onnx/forms/residual.hpp>
#include <xtnn/onnx/forms/sequential.hpp>
#include <xtnn/onnx/forms/softmax.hpp>
