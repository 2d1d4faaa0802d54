#!/usr/bin/env bash
# Data-parallel speed-ups: fit on 1 and on 2 processes (mpirun, 1 BLAS thread each) for the MLP
# at global batches 128 and 256 and the Keras convnet at 256. Each run three times; prints the
# medians of samples/s, their ratio, and (2 processes) the time per step in the gradients' sums
# and in the gathers, and the bytes summed per step. Needs the bench preset's build:
#   cmake --preset bench && cmake --build --preset bench --target xtnn_bench_distributed
#   benchmarks/distributed.sh [build/bench]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/bench}"
bench="$build/benchmarks/xtnn_bench_distributed"
[ -x "$bench" ] || { echo "distributed.sh: build $bench first (the bench preset)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
# The median run (by samples/s) of three on $1 processes: its whole line.
median_run() {
  local processes="$1"; shift
  for _ in 1 2 3; do
    line=$(mpirun -np "$processes" "$bench" "$@")
    echo "$(field samples_per_s <<<"$line") $line"
  done | sort -g | sed -n 2p
}

printf '%-5s %6s %12s %12s %7s %12s %15s %11s\n' model batch "1 proc /s" "2 procs /s" ratio \
  "sum ms/step" "gather ms/step" "bytes/step"
for run in "mlp 128" "mlp 256" "cnn 256"; do
  set -- $run
  one=$(median_run 1 --model "$1" --batch "$2")
  two=$(median_run 2 --model "$1" --batch "$2")
  s1=$(field samples_per_s <<<"$one")
  s2=$(field samples_per_s <<<"$two")
  printf '%-5s %6s %12s %12s %7s %12s %15s %11s\n' "$1" "$2" "$s1" "$s2" \
    "$(awk "BEGIN { printf \"%.2f\", $s2 / $s1 }")" "$(field sum_ms_per_step <<<"$two")" \
    "$(field gather_ms_per_step <<<"$two")" "$(field bytes_summed_per_step <<<"$two")"
done
