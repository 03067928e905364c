#!/usr/bin/env bash
# Checks the headers an install ships (cmake/TandemTargets.cmake,
# tandem_public_headers):
#   1. every `#include "..."` in an installed header names an installed header,
#      so a user project never misses one;
#   2. none includes LibTorch's c10d headers (the internal backend stays out).
# Usage: check_headers.sh PREFIX   Exits 1 naming every problem.
set -uo pipefail
root="$1/include/tandem"
[ -d "$root" ] || { echo "no headers installed under $root"; exit 1; }
status=0
count=0
while IFS= read -r -d '' header; do
  count=$((count + 1))
  rel=${header#"$root"/}
  while IFS= read -r included; do
    if [ ! -f "$root/$included" ]; then
      echo "FAIL $rel includes \"$included\", which is not installed"
      status=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$header")
  if grep -qE '#[[:space:]]*include[[:space:]]*[<"](torch/csrc/distributed|c10d/)' "$header"; then
    echo "FAIL $rel includes a c10d header"
    status=1
  fi
done < <(find "$root" -name '*.h' -print0)
[ $status -eq 0 ] && echo "checked $count installed headers: each includes only installed headers, none c10d"
exit $status
