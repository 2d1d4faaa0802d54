#!/usr/bin/env bash
# `xtnn_example_mnist train` killed with SIGKILL at random moments and started again until it
# finishes writes the weights and history of a run never interrupted, bit for bit; under
# mpirun one of the processes is killed (mpirun then ends the other).
#   resume_test.sh PROGRAM DATA_DIR WORK_DIR [MPIEXEC]
set -euo pipefail
program="$1" data="$2" work="$3" mpiexec="${4:-}"
rm -rf "$work" && mkdir -p "$work"
common=(train --limit 4000 --epochs 4 --seed 5 --no-pictures --quiet --backup-every 5
        --data "$data")
launch=("$program")
[ -z "$mpiexec" ] || launch=("$mpiexec" -np 2 "$program")

backup="$work/killed/mnist_mlp.backup.npz"
# A backup replaces the last one by a rename, and ext4 hands the freed inode to the next one:
# the inode with the change time names one backup.
version() { stat -c '%i %z' "$1" 2>/dev/null || echo none; }
now() { date +%s%N; }

# Time the uninterrupted run's training apart from its start (mpirun's and the data's start can
# take longer than the training on a loaded machine): the kills' delays are drawn from it.
start=$(now)
"${launch[@]}" "${common[@]}" --output "$work/reference" > "$work/reference.log" &
pid=$!
trained=
while kill -0 "$pid" 2>/dev/null; do
  [ -n "$trained" ] || [ "$(version "$work/reference/mnist_mlp.backup.npz")" = none ] ||
    trained=$(now)
  sleep 0.005
done
wait "$pid"
end=$(now)
[ -n "$trained" ] || { echo "FAIL: the uninterrupted run wrote no backup" >&2; exit 1; }
seconds=$(awk -v ns=$(( end - trained )) 'BEGIN { printf "%.3f", ns / 1e9 }')
echo "an uninterrupted run took $(awk -v ns=$(( end - start )) 'BEGIN { printf "%.3f", ns / 1e9 }') s," \
  "$seconds s of it after its first backup"

kills=0 resumed=0 finished=no
for attempt in 1 2 3 4 5 6; do
  # A new backup replaces the old one atomically, so resuming is what `train` does by itself.
  [ ! -f "$backup" ] || resumed=$((resumed + 1))
  before=$(version "$backup")
  "${launch[@]}" "${common[@]}" --output "$work/killed" > "$work/killed-$attempt.log" 2>&1 &
  pid=$!
  # Kill at a random moment within the first sixth of the training after this run wrote a backup,
  # so that every run gets somewhere whatever its start costs and at least two runs are killed.
  deadline=$((SECONDS + 120))
  while kill -0 "$pid" 2>/dev/null && [ "$(version "$backup")" = "$before" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.01
  done
  sleep "$(awk -v s="$seconds" -v seed="$RANDOM" 'BEGIN { srand(seed); printf "%.3f", s / 6 * rand() }')"
  if [ -z "$mpiexec" ]; then
    victim=$pid
  else # one of mpirun's processes, at random
    victim=$(pgrep -P "$pid" | shuf -n 1 || true)
  fi
  [ -z "$victim" ] || kill -9 "$victim" 2>/dev/null || true
  if wait "$pid"; then finished=yes; break; fi
  kills=$((kills + 1))
done
[ "$finished" = yes ] || "${launch[@]}" "${common[@]}" --output "$work/killed" > "$work/killed-last.log"
echo "$kills runs killed; $resumed restarts resumed from a backup"
[ "$kills" -ge 2 ] || { echo "FAIL: only $kills runs were killed before one finished" >&2; exit 1; }
[ "$resumed" -ge 1 ] || { echo "FAIL: no restart found a backup to resume from" >&2; exit 1; }

cmp "$work/reference/history.csv" "$work/killed/history.csv" ||
  { echo "FAIL: the history differs from an uninterrupted run's" >&2; exit 1; }
/usr/bin/python3 - "$work/reference/mnist_mlp.npz" "$work/killed/mnist_mlp.npz" <<'PY'
import sys
import zipfile
reference, killed = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
names = sorted(reference.namelist())
if names != sorted(killed.namelist()):
    sys.exit(f"FAIL: other arrays: {names} and {sorted(killed.namelist())}")
for name in names:
    if reference.read(name) != killed.read(name):
        sys.exit(f"FAIL: {name} differs from an uninterrupted run's")
print(f"the {len(names)} arrays of the weights are an uninterrupted run's, bit for bit")
PY
left=$(ls -A "$work/killed" | tr '\n' ' ')
[ "$left" = "history.csv mnist_mlp.npz " ] ||
  { echo "FAIL: files left besides the weights and history: $left" >&2; exit 1; }
