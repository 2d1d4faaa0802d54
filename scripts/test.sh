#!/usr/bin/env bash
# Sets up, configures, builds and runs the tests: scripts/test.sh [preset ...] (default: dev).
# Presets (CMakePresets.json): dev (GCC, -Werror), clang, asan (Clang, ASan+UBSan), tsan
# (ThreadSanitizer on the tests of xtnn's threads), docs (Doxygen,
# warnings fail the build).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# Let ccache share results between clones of the repository.
export CCACHE_BASEDIR="$PWD"

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(dev)

for preset in "${presets[@]}"; do
  echo "=== ${preset} ==="
  if [ "$preset" = docs ]; then
    cmake --workflow --preset docs
    continue
  fi
  cmake --preset "$preset"
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
