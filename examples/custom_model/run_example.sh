#!/usr/bin/env bash
# Builds this example against an installed Tandem, trains tiny.yaml with two
# workers (the example's own model and optimizer), resumes it, and checks what
# the run left behind.
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
rm -rf "$run" "$run-60"
"$exe" launch --nproc-per-node 2 "$here/tiny.yaml" "data.path=$corpus" --run-dir "$run" \
  || fail "training failed (exit $?); per-rank logs in $run/logs"
compgen -G "$run/checkpoints/step-*.pt" >/dev/null || fail "no checkpoint in $run/checkpoints"
[[ -s "$run/metrics.jsonl" ]] || fail "$run/metrics.jsonl is missing or empty"
grep -q '"kind":"epoch"' "$run/metrics.jsonl" || fail "$run/metrics.jsonl has no end-of-epoch record"
grep -q 'type: tiny_char_mlp' "$run/config.yaml" || fail "$run/config.yaml does not name model tiny_char_mlp"
grep -q 'type: lion' "$run/config.yaml" || fail "$run/config.yaml does not name optimizer lion"

echo "== the user's optimizer (lion) trained the model"
# The training loss of each logged step, in order.
losses=$(grep '"kind":"step"' "$run/metrics.jsonl" | sed -n 's/.*"loss":\([-0-9.eE+]*\).*/\1/p')
[[ $(wc -l <<<"$losses") -ge 4 ]] || fail "expected at least 4 logged steps in $run/metrics.jsonl, got: $losses"
awk 'NR == 1 { first = $1 } { last = $1 } END { exit !(last < 0.9 * first) }' <<<"$losses" \
  || fail "the loss did not fall by 10% with lion: $(tr '\n' ' ' <<<"$losses")"

echo "== resume: lion's state comes back from the checkpoint"
"$exe" launch --nproc-per-node 2 --resume "$run" trainer.max_steps=60 \
  || fail "resuming the run to 60 steps failed (exit $?); per-rank logs in $run/logs"
grep '"kind":"start"' "$run/metrics.jsonl" | grep '"resumed":true' | grep -q '"global_step":40' \
  || fail "$run/metrics.jsonl has no start record resumed at step 40"
# Tandem resumes exactly: with lion's momentum restored, the resumed steps
# repeat those of a run that went to 60 steps without stopping.
step_losses() { grep '"kind":"step"' "$1" | grep -E '"global_step":(50|60),' | sed -n 's/.*"loss":\([-0-9.eE+]*\).*/\1/p'; }
"$exe" launch --nproc-per-node 2 "$here/tiny.yaml" "data.path=$corpus" trainer.max_steps=60 --run-dir "$run-60" \
  || fail "training 60 steps without stopping failed (exit $?); per-rank logs in $run-60/logs"
resumed=$(step_losses "$run/metrics.jsonl")
straight=$(step_losses "$run-60/metrics.jsonl")
[[ $(wc -l <<<"$resumed") -eq 2 && "$resumed" == "$straight" ]] \
  || fail "the resumed run's losses at steps 50 and 60 ($(echo $resumed)) differ from an uninterrupted run's ($(echo $straight))"

echo "== both the user's model and the built-in ones are registered"
status=0
out=$("$exe" validate "$here/tiny.yaml" model.type=nosuchmodel "data.path=$corpus" 2>&1) || status=$?
[[ $status -eq 2 ]] || fail "validate with model.type=nosuchmodel should exit 2, got $status: $out"
for model in tiny_char_mlp char_lstm; do
  grep -q "$model" <<<"$out" || fail "model '$model' is not registered in my_tandem; validate said: $out"
done

echo "== both the user's optimizer and the built-in ones are registered"
status=0
out=$("$exe" validate "$here/tiny.yaml" optim.type=lino "data.path=$corpus" 2>&1) || status=$?
[[ $status -eq 2 ]] || fail "validate with optim.type=lino should exit 2, got $status: $out"
grep -q "expected one of adam, lion, sgd, got 'lino' (did you mean 'lion'?)" <<<"$out" \
  || fail "validate did not list lion with the built-in optimizers; it said: $out"
status=0
out=$("$exe" validate "$here/tiny.yaml" optim.betas=[0.9] "data.path=$corpus" 2>&1) || status=$?
[[ $status -eq 2 ]] && grep -q "optim.betas: expected 2 numbers (beta1, beta2), got 1" <<<"$out" \
  || fail "validate did not check lion's own keys (exit $status): $out"

echo "run_example.sh: ok (${SECONDS}s); run directory $run"
