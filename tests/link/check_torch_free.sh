#!/usr/bin/env bash
# Checks that the layers which must not link LibTorch do not:
#   1. REPORT, written at configure time by tests/link/torch_free.cmake, has an
#      "ok" line for each such CMake target (core, recipe, table, launch, sweep
#      and their test binaries), none reaching LibTorch through its link
#      dependencies;
#   2. none of the BINARIES given has a LibTorch library in DT_NEEDED.
# Usage: check_torch_free.sh REPORT BINARY...   Exits 1 naming every failure.
set -uo pipefail
report=$1
shift
status=0
[ -s "$report" ] || { echo "missing report: $report (re-run cmake)"; exit 1; }
if grep '^FAIL' "$report"; then
  status=1
fi
for bin in "$@"; do
  [ -f "$bin" ] || { echo "missing: $bin"; status=1; continue; }
  torch=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(lib\(torch\|c10\)[^]]*\)\]/\1/p' | tr '\n' ' ')
  if [ -n "$torch" ]; then
    echo "FAIL $bin needs LibTorch: $torch"
    status=1
  fi
done
[ $status -eq 0 ] && echo "no LibTorch in $(grep -c '^ok' "$report") targets' link dependencies nor in $# binaries"
exit $status
