#!/usr/bin/env bash
# Builds the benchmarks (preset bench: Release, -march=native) and regenerates
# benchmarks/RESULTS.md: every microbenchmark and the side-by-side comparison with PyTorch.
#   benchmarks/run.sh [results.py options]
# PyTorch's side needs Debian's python3-torch (apt install python3-torch, about 1 GB).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export CCACHE_BASEDIR="$PWD"
cmake --preset bench >/dev/null
cmake --build --preset bench
/usr/bin/python3 -c "import torch" 2>/dev/null || {
  echo "run.sh: PyTorch is missing; install it with: apt install python3-torch" >&2
  exit 1
}
benchmarks/results.py "$@"
