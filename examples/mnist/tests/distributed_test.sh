#!/usr/bin/env bash
# `mpirun -np 2 xtnn_example_mnist train` against the same training alone: the same weights
# (within 1e-4 relative: same seed, --dropout 0, one epoch), printed once, written once.
#   distributed_test.sh PROGRAM MPIEXEC DATA_DIR WORK_DIR
set -euo pipefail
program="$1" mpiexec="$2" data="$3" work="$4"
rm -rf "$work" && mkdir -p "$work"
common=(train --epochs 1 --dropout 0 --seed 7 --batch-size 64 --no-pictures --data "$data")

"$program" "${common[@]}" --output "$work/alone" > "$work/alone.log"
# Each process would write into its own directory if it wrote at all: only rank 0 may.
"$mpiexec" -np 2 "$program" "${common[@]}" --output "$work/two" > "$work/two.log"

cat "$work/two.log"
count=$(grep -c "^test accuracy" "$work/two.log")
[ "$count" -eq 1 ] || { echo "FAIL: the test figures were printed $count times, not once" >&2; exit 1; }
grep -q "data-parallel on 2 processes" "$work/two.log" ||
  { echo "FAIL: train did not say it ran on 2 processes" >&2; exit 1; }
files=$(find "$work/two" -type f | wc -l)
[ "$files" -eq 2 ] || { echo "FAIL: expected mnist_mlp.npz and history.csv, found $files files" >&2; exit 1; }

/usr/bin/python3 - "$work/alone/mnist_mlp.npz" "$work/two/mnist_mlp.npz" <<'PY'
import sys
import numpy
alone, two = numpy.load(sys.argv[1]), numpy.load(sys.argv[2])
assert sorted(alone.files) == sorted(two.files), (alone.files, two.files)
worst = 0.0
for name in alone.files:
    a, b = alone[name].astype(numpy.float64), two[name].astype(numpy.float64)
    worst = max(worst, float(numpy.abs(a - b).max() / max(numpy.abs(a).max(), 1e-30)))
print(f"largest difference from one process, relative to each array's largest value: {worst:.3g}")
if worst > 1e-4:
    sys.exit("FAIL: 2 processes trained other weights than one")
PY
