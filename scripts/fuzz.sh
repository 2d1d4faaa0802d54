#!/usr/bin/env bash
# Fuzzes xtnn's file readers with libFuzzer: scripts/fuzz.sh [SECONDS] [TARGET ...]
#   SECONDS  how long each target runs (default 60)
#   TARGET   idx (read_idx), npz (load_weights), record (the architecture record of weight and
#            ONNX files), image (the MNIST program's image decoding and digit preprocessing),
#            onnx (load_onnx); default: all five
# Builds the fuzz preset (Clang, -fsanitize=fuzzer,address,undefined, no recovery), writes seed
# files with xtnn's own writers and runs each target from those seeds, the saved regressions
# (tests/fuzz/regressions/TARGET) and the corpus of earlier runs (build/fuzz/corpus/TARGET,
# which grows). A crash, sanitizer report, leak, time-out or an exception other than
# xtnn::io_error is a finding: the input is saved in build/fuzz/findings/TARGET/ and the script
# fails. Fix it, then add the input to tests/fuzz/regressions/TARGET/: ctest replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx npz record image onnx)

scripts/setup.sh
export CCACHE_BASEDIR="$PWD"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
bin=build/fuzz/tests/fuzz
"$bin/xtnn_fuzz_seeds" build/fuzz/seeds

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
for target in "${targets[@]}"; do
  corpus=build/fuzz/corpus/$target
  findings=build/fuzz/findings/$target
  mkdir -p "$corpus" "$findings"
  log=build/fuzz/$target.log
  echo "=== fuzz: $target for $seconds s ==="
  if "$bin/xtnn_fuzz_$target" "$corpus" "build/fuzz/seeds/$target" \
      "tests/fuzz/regressions/$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    grep -E "^(#[0-9]+.*DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)" \
      "$log" || tail -n 5 "$log"
    echo "fuzz: $target: no finding; corpus $(ls "$corpus" | wc -l) inputs"
  else
    tail -n 60 "$log"
    echo "fuzz: $target: FINDING saved in $findings/ (full log: $log)"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no finding"
