#!/usr/bin/env bash
# Builds and runs the DDP benchmark; arguments go to bench_ddp (see --help).
#   bench/ddp/run.sh                      # the full comparison, ~10 minutes on 2 cores
#   bench/ddp/run.sh --batches 256 --repeats 1 --scale 0.3   # a quick look
# The PyTorch DDP baseline needs Debian's python3-torch (tools/setup.sh --bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -f build/build.ninja ] || tools/setup.sh
cmake --build build --target bench_ddp >/dev/null
exec build/bench/bench_ddp "$@"
