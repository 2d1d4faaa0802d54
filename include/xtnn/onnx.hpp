/// @file
/// The ONNX component (`xtnn::onnx`): save_onnx() writes a model as an ONNX file, load_onnx()
/// reads one into a model. Link `xtnn::onnx` (`find_package(xtnn COMPONENTS onnx)`); the core
/// does not need it.
#pragma once

#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/load_onnx.hpp>
#include <xtnn/onnx/save_onnx.hpp>
