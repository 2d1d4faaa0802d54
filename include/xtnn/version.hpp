/// @file
/// The library version: the single source of truth, also read by CMake.
#pragma once

/// Major version: incompatible API changes (at 0.x, minor versions may break too).
#define XTNN_VERSION_MAJOR 0
/// Minor version: new features.
#define XTNN_VERSION_MINOR 1
/// Patch version: fixes only.
#define XTNN_VERSION_PATCH 0

namespace xtnn {

/// The version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";

} // namespace xtnn
