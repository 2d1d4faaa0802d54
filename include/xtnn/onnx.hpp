/// @file
/// The ONNX component (`xtnn::onnx`): save_onnx() writes a model as an ONNX file. Link
/// `xtnn::onnx` (`find_package(xtnn COMPONENTS onnx)`); the core does not need it.
#pragma once

#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/save_onnx.hpp>
