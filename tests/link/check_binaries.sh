#!/usr/bin/env bash
# Checks how Tandem's binaries are linked against LibTorch (cmake/TandemTorch.cmake):
#   1. libstdc++.so.6 comes before every LibTorch library in DT_NEEDED, so the
#      dynamic linker binds std:: calls to libstdc++, not to the unversioned
#      copies that PyPI's libtorch.so exports (std::filesystem among them);
#   2. no binary exports a definition of a gloo symbol, nor one that names
#      ProcessGroupGloo. Tandem compiles ProcessGroupGloo.hpp against the
#      system's gloo headers, which need not be the gloo inside LibTorch; an
#      exported copy of an inline function compiled from them would take the
#      place of LibTorch's own in every library of the process
#      (framework/dist/CMakeLists.txt keeps them unexported).
# Usage: check_binaries.sh BINARY...   Exits 1 naming every binary that fails.
set -uo pipefail
status=0
for bin in "$@"; do
  [ -f "$bin" ] || { echo "missing: $bin"; status=1; continue; }
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  torch_at=$(grep -n -m1 -E '^lib(torch|c10)' <<<"$needed" | cut -d: -f1)
  stdcxx_at=$(grep -n -m1 '^libstdc++\.so' <<<"$needed" | cut -d: -f1)
  if [ -n "$torch_at" ] && { [ -z "$stdcxx_at" ] || [ "$stdcxx_at" -gt "$torch_at" ]; }; then
    echo "FAIL $bin: libstdc++ is not before LibTorch in DT_NEEDED:" $needed
    status=1
  fi
  gloo=$(nm -D -C --defined-only "$bin" | grep -E '[ (:<,]gloo::|ProcessGroupGloo' | head -5)
  if [ -n "$gloo" ]; then
    echo "FAIL $bin exports gloo symbols:"
    echo "$gloo"
    status=1
  fi
done
[ $status -eq 0 ] && echo "checked $# binaries: libstdc++ before LibTorch, no gloo symbols exported"
exit $status
