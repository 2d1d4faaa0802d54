/// @file
/// Part header: weight files (save_weights, load_weights: .npz; .npy arrays) and IDX files
/// (read_idx, write_idx).
#pragma once

#include <xtnn/io/architecture.hpp>
#include <xtnn/io/backup.hpp>
#include <xtnn/io/idx.hpp>
#include <xtnn/io/npy.hpp>
#include <xtnn/io/npz.hpp>
