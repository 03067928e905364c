#!/usr/bin/env bash
# Runs Tandem's whole test suite against each LibTorch Tandem supports: sets up
# and builds everything if needed, then ctest — unit tests, multi-process tests
# over real Gloo, the CLI end to end, and the out-of-tree example against an
# install.
#   1. Debian's LibTorch 1.13 in build/ (tools/setup.sh --all);
#   2. LibTorch 2.x in build-torch2/ (tools/setup.sh --torch2: PyPI's torch,
#      pinned, in .venv-torch2/, or TANDEM_LIBTORCH=<dir>). It is a CUDA build,
#      so the CUDA and NCCL code paths compile; tests that need a GPU skip
#      themselves on a machine without one.
# TANDEM_TEST_LIBTORCH=1.13 or =2 runs one of them only (default: both).
# Arguments go to ctest, for both (e.g. -R 'dist|ddp').
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
which=${TANDEM_TEST_LIBTORCH:-both}
case "$which" in
  both|1.13|2) ;;
  *) echo "TANDEM_TEST_LIBTORCH must be 1.13, 2 or both, got '$which'" >&2; exit 2 ;;
esac

failed=()
run_suite() {  # run_suite NAME BUILD_DIR [ctest args...]
  local name=$1 dir=$2
  shift 2
  echo "[test] LibTorch $name: ctest in $dir/"
  local start=$SECONDS
  if ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 600 "$@"; then
    echo "[test] LibTorch $name: passed in $((SECONDS - start)) s"
  else
    echo "[test] LibTorch $name: FAILED (after $((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

if [ "$which" != 2 ]; then
  tools/setup.sh --all
  run_suite 1.13 build "$@"
fi
if [ "$which" != 1.13 ]; then
  tools/setup.sh --torch2
  run_suite 2.x build-torch2 "$@"
fi
if ((${#failed[@]})); then
  echo "[test] failed against LibTorch ${failed[*]}"
  exit 1
fi
echo "[test] all passed"
