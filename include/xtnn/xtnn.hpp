/// @file
/// The umbrella header: every public part of xtnn. A translation unit that needs only some
/// parts can include their part headers instead (docs/performance.md, "Compile time").
#pragma once

#include <xtnn/core.hpp>
#include <xtnn/data.hpp>
#include <xtnn/io.hpp>
#include <xtnn/layers.hpp>
#include <xtnn/losses.hpp>
#include <xtnn/metrics.hpp>
#include <xtnn/model.hpp>
#include <xtnn/optimizers.hpp>
#include <xtnn/testing.hpp>
#include <xtnn/training.hpp>
#include <xtnn/version.hpp>
#include <xtnn/vision.hpp>
