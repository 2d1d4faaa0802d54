#!/usr/bin/env bash
# Sets up, builds and runs an example end to end: scripts/example.sh [name] [args...].
# The default, two_spirals, trains a small network on a non-linear 2-D problem.
# (The MNIST digit recognizer will become the default when examples/mnist lands.)
set -euo pipefail
cd "$(dirname "$0")/.."

name="${1:-two_spirals}"
[ $# -gt 0 ] && shift

scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev --target "xtnn_example_${name}"
exec "build/dev/examples/${name}/xtnn_example_${name}" "$@"
