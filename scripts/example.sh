#!/usr/bin/env bash
# Sets up, builds and runs an example end to end: scripts/example.sh [name] [args...].
#
# With no arguments: the MNIST digit recognizer. It installs what it needs, prepares the digits
# (scripts/mnist_data.py), builds, trains the Keras tutorial's model for 5 epochs, evaluates it
# and draws its pictures into mnist-output/.
#   scripts/example.sh mnist train --epochs 10     # any command line of the program
#   scripts/example.sh two_spirals --epochs 150    # the other examples
set -euo pipefail
cd "$(dirname "$0")/.."

name="${1:-mnist}"
[ $# -gt 0 ] && shift

scripts/setup.sh
export CCACHE_BASEDIR="$PWD"
cmake --preset dev >/dev/null
cmake --build --preset dev --target "xtnn_example_${name}"
program="build/dev/examples/${name}/xtnn_example_${name}"

if [ "$name" != mnist ]; then
  exec "$program" "$@"
fi
scripts/mnist_data.py
if [ $# -gt 0 ]; then
  exec "$program" "$@"
fi
"$program" train --output mnist-output
echo
"$program" evaluate --weights mnist-output/mnist_mlp.npz
echo
echo "Pictures: mnist-output/digits.png, mistakes.png, training_curves.png, confusion_matrix.png"
echo "Your own digits: $program predict --weights mnist-output/mnist_mlp.npz IMAGE..."
echo "The convnet (98% of the test digits, and of people's scans; about a minute):"
echo "  $program train --model cnn && $program predict IMAGE..."
