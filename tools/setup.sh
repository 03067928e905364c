#!/usr/bin/env bash
# Sets up Tandem on Debian 12: installs the Debian packages that are missing
# (as root, or through sudo), configures a Release build into build/ and builds
# the `tandem` command. Safe to run again: it only does what is not done yet.
#
#   tools/setup.sh            packages + configure + build `tandem` (LibTorch 1.13)
#   tools/setup.sh --all      ... and build the tests too
#   tools/setup.sh --bench    ... and install the benchmarks' baselines (Debian's
#                             python3-torch, python3-sklearn), then build `tandem`
#   tools/setup.sh --torch2   the same packages as --all, then everything against
#                             LibTorch 2.x in build-torch2/ (not build/): the
#                             LibTorch inside PyPI's torch, pinned in
#                             tools/torch2-requirements.txt and installed into
#                             .venv-torch2/; or, with TANDEM_LIBTORCH=<dir>, the
#                             LibTorch in <dir> (the LibTorch zip, unpacked).
#                             A CUDA LibTorch needs the CUDA toolkit of the same
#                             major version (nvcc on PATH, $CUDACXX, or
#                             /usr/local/cuda). See docs/getting-started.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode="${1:-}"
case "$mode" in
  ""|--all|--bench|--torch2) ;;
  *) echo "usage: tools/setup.sh [--all | --bench | --torch2]" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake ninja-build ccache
  libtorch-dev libgloo-dev            # LibTorch with c10d/Gloo headers
  libopenblas0-openmp                 # LibTorch's matrix work goes through the system BLAS
  libyaml-cpp-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  zlib1g-dev                          # CRC-32 of checkpoints
  libssl-dev                          # HMAC-SHA256 admission to the store (OpenSSL's libcrypto)
)

if [ "$mode" = "--all" ] || [ "$mode" = "--torch2" ]; then
  packages+=(iproute2)                         # the multi-host tests build hosts with `ip netns`, veth and `tc`
fi

if [ "$mode" = "--all" ] || [ "$mode" = "--torch2" ]; then
  packages+=(openmpi-bin gnuplot-nox)          # a test runs `tandem train` under a real mpirun; sweep reports
  packages+=(python3-sklearn)                  # a test checks the logistic solvers against scikit-learn
fi
if [ "$mode" = "--torch2" ] && [ -z "${TANDEM_LIBTORCH:-}" ]; then
  packages+=(python3-venv)                     # .venv-torch2/, for PyPI's torch
fi
if [ "$mode" = "--bench" ]; then
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

jobs=$(nproc)

# --torch2: LibTorch 2.x in build-torch2/.
if [ "$mode" = "--torch2" ]; then
  if [ -n "${TANDEM_LIBTORCH:-}" ]; then
    torch_prefix=$(realpath "$TANDEM_LIBTORCH")
    [ -f "$torch_prefix/share/cmake/Torch/TorchConfig.cmake" ] || {
      echo "[setup] TANDEM_LIBTORCH=$TANDEM_LIBTORCH holds no share/cmake/Torch/TorchConfig.cmake;" \
           "point it at the unpacked LibTorch zip (the folder named libtorch)" >&2; exit 2; }
    # The zip says its CUDA version only in its name (cu130): "" for a CPU build, else "some".
    torch_cuda=$(compgen -G "$torch_prefix/lib/libtorch_cuda.so" >/dev/null && echo some || true)
  else
    venv=.venv-torch2
    pin=$(grep -v '^#' tools/torch2-requirements.txt | tr -d '[:space:]')
    want=${pin#torch==}
    have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)
    if [ "${have%%+*}" != "$want" ]; then
      echo "[setup] installing $pin from PyPI into $venv/ (about 3.3 GB with its CUDA libraries)"
      [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
      start=$(date +%s)
      "$venv/bin/python" -m pip install -q -r tools/torch2-requirements.txt
      echo "[setup] pip install took $(( $(date +%s) - start )) s"
    fi
    # torch.utils.cmake_prefix_path is <torch>/share/cmake; <torch> itself is
    # the LibTorch prefix (include/, lib/, share/cmake/Torch).
    read -r torch_prefix torch_cuda < <("$venv/bin/python" -W ignore -c \
      'import os, torch.utils, torch.version as v; print(os.path.dirname(os.path.dirname(torch.utils.cmake_prefix_path)), v.cuda or "")')
  fi
  cuda_args=()
  if [ -n "$torch_cuda" ]; then
    # A CUDA LibTorch: its TorchConfig.cmake enables the CUDA language, so it
    # needs nvcc, of the CUDA major version LibTorch was built with.
    nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
    [ -x "$nvcc" ] || {
      echo "[setup] this LibTorch is built for CUDA $torch_cuda, and configuring against it needs the CUDA toolkit" \
           "(nvcc $torch_cuda): install it, put its bin/ on PATH or set CUDACXX" >&2; exit 1; }
    nvcc_version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')
    if [ "$torch_cuda" != some ] && [ "${nvcc_version%%.*}" != "${torch_cuda%%.*}" ]; then
      echo "[setup] warning: LibTorch is built for CUDA $torch_cuda but $nvcc is CUDA $nvcc_version" >&2
    fi
    cuda_args=(-DCMAKE_CUDA_COMPILER="$nvcc")
  fi
  if [ ! -f build-torch2/build.ninja ]; then
    echo "[setup] configuring build-torch2/ against the LibTorch in $torch_prefix${torch_cuda:+ (CUDA $torch_cuda)}"
    cmake -S . -B build-torch2 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" "${cuda_args[@]}"
  fi
  start=$(date +%s)
  cmake --build build-torch2 -j "$jobs"
  echo "[setup] ready: build-torch2/tandem (build: $(( $(date +%s) - start )) s)"
  exit 0
fi

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
if [ "$mode" = "--all" ]; then
  cmake --build build -j "$jobs"
else
  cmake --build build -j "$jobs" --target tandem
fi
echo "[setup] ready: build/tandem"
