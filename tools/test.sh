#!/usr/bin/env bash
# Runs Tandem's whole test suite: sets up and builds everything if needed
# (tools/setup.sh --all), then ctest — unit tests, multi-process tests over
# real Gloo, the CLI end to end, and the out-of-tree example against an install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools/setup.sh --all
ctest --test-dir build --output-on-failure -j 2 --timeout 600 "$@"
