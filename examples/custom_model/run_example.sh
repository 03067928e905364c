#!/usr/bin/env bash
# Builds this example against an installed Tandem, trains tiny.yaml with two
# workers and checks what the run left behind.
#   examples/custom_model/run_example.sh PREFIX BUILD_DIR
# PREFIX: where Tandem is installed (cmake --install build --prefix PREFIX).
# BUILD_DIR: the example's build directory; the run goes to BUILD_DIR/run.
# Exits 0 when everything worked, 1 with a message saying what did not.
set -euo pipefail

fail() {
  echo "run_example.sh: FAILED: $*" >&2
  exit 1
}

[[ $# -eq 2 ]] || { echo "usage: $0 PREFIX BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=$(realpath -m "$1")
build=$(realpath -m "$2")
corpus="$prefix/share/tandem/corpora/names.txt"
exe="$build/my_tandem"
run="$build/run"
[[ -f "$prefix/lib/cmake/Tandem/TandemConfig.cmake" ]] || fail "no Tandem installed under $prefix (run cmake --install)"
[[ -f "$corpus" ]] || fail "the installed corpus $corpus is missing"

echo "== configure and build against $prefix"
generator=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  || fail "configuring the example against $prefix failed"
cmake --build "$build" --parallel 2 || fail "building the example failed"

echo "== train tiny.yaml with 2 workers"
rm -rf "$run"
"$exe" launch --nproc-per-node 2 "$here/tiny.yaml" "data.path=$corpus" --run-dir "$run" \
  || fail "training failed (exit $?); per-rank logs in $run/logs"
compgen -G "$run/checkpoints/step-*.pt" >/dev/null || fail "no checkpoint in $run/checkpoints"
[[ -s "$run/metrics.jsonl" ]] || fail "$run/metrics.jsonl is missing or empty"
grep -q '"kind":"epoch"' "$run/metrics.jsonl" || fail "$run/metrics.jsonl has no end-of-epoch record"
grep -q 'type: tiny_char_mlp' "$run/config.yaml" || fail "$run/config.yaml does not name model tiny_char_mlp"

echo "== both the user's model and the built-in ones are registered"
status=0
out=$("$exe" validate "$here/tiny.yaml" model.type=nosuchmodel "data.path=$corpus" 2>&1) || status=$?
[[ $status -eq 2 ]] || fail "validate with model.type=nosuchmodel should exit 2, got $status: $out"
for model in tiny_char_mlp char_lstm; do
  grep -q "$model" <<<"$out" || fail "model '$model' is not registered in my_tandem; validate said: $out"
done

echo "run_example.sh: ok (${SECONDS}s); run directory $run"
