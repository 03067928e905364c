#!/usr/bin/env bash
# Sets up Tandem on Debian 12: installs the Debian packages that are missing
# (as root, or through sudo), configures a Release build into build/ and builds
# the `tandem` command. Safe to run again: it only does what is not done yet.
#
#   tools/setup.sh            packages + configure + build `tandem`
#   tools/setup.sh --all      ... and build the tests too
#   tools/setup.sh --bench    ... and install the benchmarks' baselines (Debian's
#                             python3-torch, python3-sklearn), then build `tandem`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libgloo-dev            # LibTorch with c10d/Gloo headers
  libopenblas0-openmp                 # LibTorch's matrix work goes through the system BLAS
  libyaml-cpp-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  zlib1g-dev                          # CRC-32 of checkpoints
)

if [ "${1:-}" = "--all" ]; then
  packages+=(openmpi-bin gnuplot-nox)          # a test runs `tandem train` under a real mpirun; sweep reports
  packages+=(python3-sklearn)                  # a test checks the logistic solvers against scikit-learn
fi
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-torch python3-sklearn)   # PyTorch DDP and scikit-learn, for bench/ only
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "[setup] installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian picks the BLAS with the highest alternatives priority; OpenBLAS wins
# over the reference BLAS once installed, unless someone pinned it by hand.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*|"") ;;
  *) echo "[setup] warning: libblas.so.3 is $blas, not OpenBLAS; training will be ~10x slower." \
          "Fix: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2 ;;
esac

# ccache: let fresh clones in other directories share cached objects.
export CCACHE_BASEDIR="$PWD"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
jobs=$(nproc)
if [ "${1:-}" = "--all" ]; then
  cmake --build build -j "$jobs"
else
  cmake --build build -j "$jobs" --target tandem
fi
echo "[setup] ready: build/tandem"
