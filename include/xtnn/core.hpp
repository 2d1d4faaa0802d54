/// @file
/// Part header: tensors, errors, gemm, the random engine, parameters and the contracts of
/// layers, losses and optimizers. Every other part includes what it needs of it.
#pragma once

#include <xtnn/core/blas.hpp>
#include <xtnn/core/concepts.hpp>
#include <xtnn/core/cpu.hpp>
#include <xtnn/core/denormals.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/core/epilogue.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/files.hpp>
#include <xtnn/core/gather_rows.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/mask.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/saved_state.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/core/visit.hpp>
