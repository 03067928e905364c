#!/usr/bin/env bash
# The GPU check: on a GPU host with PyTorch installed and no package registry, from Tandem's source
# tree, builds Tandem against the LibTorch inside that PyTorch, with the build dependencies carried
# as .deb files (tools/gpu/bundle.sh), then runs the CUDA tests, the GPU benchmark (bench/gpu), the
# default recipe with one worker per GPU, and the whole test suite if time allows. See
# tools/gpu/README.md and docs/gpu.md.
#
#   tools/gpu/check.sh BUNDLE_DIR [OUT_DIR]
#   PYTHON=/opt/venv/bin/python tools/gpu/check.sh gpu-bundle
#   tools/gpu/check.sh --cpu-dry-run gpu-bundle /tmp/check    # the same phases on the CPU
#
# BUNDLE_DIR: bundle.sh's folder (manifest.tsv, debs/), or any folder of .deb files.
# OUT_DIR (default runs/gpu-check/<time>/): one log per phase and summary.md, the one file to read.
# Options:
#   --cpu-dry-run   run every phase on the CPU (automatic where no GPU is visible): the CUDA tests
#                   skip themselves, the benchmark runs small batches without its GPU-only columns,
#                   the recipe runs one CPU worker.
#   --budget S      wall-time limit for the whole check (default 480; 3600 for a CPU dry run). Every
#                   phase runs under `timeout`, with a limit scaled to the budget; the suite gets
#                   what is left.
#   --jobs N        build jobs (default: all cores).
#   --build-dir D   the build folder (default build-gpu/; the dependencies unpack into D/tandem-deps).
# Environment: PYTHON, the Python whose torch is used (default python3, else .venv-torch2/bin/python);
# CUDACXX, nvcc for a CUDA LibTorch (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc).
# A failed phase is recorded and the next runs. Exit 0 when every phase passed, 1 otherwise, 2 on
# bad arguments.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

dry_run=0 budget="" jobs=$(nproc) build_dir=build-gpu bundle="" out=""
while (($#)); do
  case $1 in
    --cpu-dry-run) dry_run=1; shift ;;
    --budget) budget=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "[check] unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) if [ -z "$bundle" ]; then bundle=$1; elif [ -z "$out" ]; then out=$1; else
         echo "[check] unexpected argument '$1' (see --help)" >&2; exit 2; fi; shift ;;
  esac
done
[ -n "$bundle" ] || { echo "usage: tools/gpu/check.sh [--cpu-dry-run] [--budget S] BUNDLE_DIR [OUT_DIR]" >&2; exit 2; }
[ -d "$bundle" ] || { echo "[check] $bundle is not a folder (make one with tools/gpu/bundle.sh)" >&2; exit 2; }
bundle=$(cd "$bundle" && pwd)
debs=$bundle; [ -d "$bundle/debs" ] && debs=$bundle/debs
out=${out:-$root/runs/gpu-check/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" && out=$(cd "$out" && pwd)
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac
deps=$build_dir/tandem-deps

start=$(date +%s)
now() { echo $(( $(date +%s) - start )); }
say() { echo "[check] [$(now) s] $*"; }

# ---- the Python with PyTorch, and the device ------------------------------------------------------
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  if ! python3 -c 'import torch' >/dev/null 2>&1 && [ -x "$root/.venv-torch2/bin/python" ]; then
    PYTHON=$root/.venv-torch2/bin/python
  fi
fi
if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
  echo "[check] $PYTHON cannot import torch: set PYTHON to the Python that has PyTorch (a venv's bin/python)" >&2
  exit 2
fi
gpus=$("$PYTHON" -W ignore -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)' 2>/dev/null || echo 0)
if [ "$dry_run" = 0 ] && [ "${gpus:-0}" -eq 0 ]; then
  say "no GPU visible to $PYTHON's torch: running as --cpu-dry-run"
  dry_run=1
fi
device=cuda; [ "$dry_run" = 1 ] && device=cpu
# The LibTorch inside that torch: torch.utils.cmake_prefix_path is <torch>/share/cmake, and <torch>
# is the LibTorch prefix (include/, lib/, share/cmake/Torch), as tools/setup.sh --torch2 takes it.
read -r torch_prefix torch_cuda < <("$PYTHON" -W ignore -c \
  'import os, torch.utils, torch.version as v; print(os.path.dirname(os.path.dirname(torch.utils.cmake_prefix_path)), v.cuda or "")')
# A CUDA LibTorch's CMake files enable the CUDA language: configuring needs nvcc.
nvcc=""
if [ -n "${torch_cuda:-}" ]; then nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}; fi
budget=${budget:-$([ "$dry_run" = 1 ] && echo 3600 || echo 480)}
deadline=$(( start + budget ))

# Phase limits, in seconds of the 480 s that one 16-core GPU host has; scaled to the budget.
scale() { echo $(( $1 * budget / 480 )); }
left() { echo $(( deadline - $(date +%s) )); }
# limit CAP RESERVE: CAP (scaled), but never into the RESERVE (scaled) kept for the phases after it.
limit() {
  local cap reserve l
  cap=$(scale "$1"); reserve=$(scale "$2"); l=$(( $(left) - reserve ))
  (( l > cap )) && l=$cap
  (( l < 5 )) && l=5
  echo "$l"
}

# ---- the phase runner -------------------------------------------------------------------------------
phases=()
declare -A rc wall limit_of note
n=0
# run_phase NAME LIMIT FUNCTION: FUNCTION's output goes to OUT/NN-NAME.log, under `timeout LIMIT`.
run_phase() {
  local name=$1 lim=$2 fn=$3 t0 code
  n=$((n + 1))
  local log=$out/$(printf '%02d' "$n")-$name.log
  phases+=("$name")
  limit_of[$name]=$lim
  say "$name (at most $lim s) -> $(basename "$log")"
  t0=$(date +%s)
  timeout --kill-after=5 "$lim" bash -c "$fn" > "$log" 2>&1
  code=$?
  rc[$name]=$code
  wall[$name]=$(( $(date +%s) - t0 ))
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then note[$name]="ran out of its $lim s"; fi
  say "$name: rc=$code in ${wall[$name]} s${note[$name]:+ (${note[$name]})}"
}
skip_phase() {
  n=$((n + 1)); phases+=("$1"); rc[$1]=skipped; wall[$1]=0; limit_of[$1]=0; note[$1]=$2
  say "$1: skipped ($2)"
}

export root out bundle debs deps build_dir jobs device dry_run PYTHON start torch_prefix torch_cuda nvcc
# Every CMake run below finds LibTorch and the bundle's packages, also those the tests start
# themselves (the install test configures an out-of-tree project against the installed Tandem).
export CMAKE_PREFIX_PATH="$torch_prefix:$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
[ -n "$nvcc" ] && [ -x "$nvcc" ] && export CUDACXX=$nvcc
# As tools/setup.sh: ccache (where present) shares objects between build folders of one tree.
export CCACHE_BASEDIR=$root CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
log_of() { ls "$out"/[0-9][0-9]-"$1".log 2>/dev/null | head -1; }

# ---- phases -----------------------------------------------------------------------------------------
phase_host() {
  set -x
  date -u +%FT%TZ; uname -a; grep PRETTY_NAME /etc/os-release
  nproc; free -g | head -2
  git -C "$root" log -1 --format='%h %s' || true
  git -C "$root" status --short | head -20 || true
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PYTHON" -W ignore -c '
import torch, torch.utils
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
if torch.cuda.is_available():
    print("nccl", ".".join(map(str, torch.cuda.nccl.version())), "gpus", torch.cuda.device_count(),
          torch.cuda.get_device_name(0))
print("cmake_prefix_path", torch.utils.cmake_prefix_path)'
  ${CXX:-c++} --version | head -1; cmake --version | head -1
  command -v ninja && ninja --version; command -v ccache || true
  true
}

phase_deps() {
  set -e
  local manifest=$bundle/manifest.tsv checked=0
  if [ -f "$manifest" ]; then
    while IFS=$'\t' read -r kind name version arch sum file; do
      case $kind in deb) ;; *) continue ;; esac
      [ -f "$bundle/$file" ] || { echo "missing: $file ($name $version)"; exit 1; }
      echo "$sum  $bundle/$file" | sha256sum -c --quiet - || { echo "sha256 mismatch: $file"; exit 1; }
      checked=$((checked + 1))
    done < <(grep -v '^#' "$manifest")
    echo "sha256 of $checked .deb files matches $manifest"
  else
    echo "warning: no manifest.tsv in $bundle; the .deb files are not checked"
  fi
  rm -rf "$deps"; mkdir -p "$deps"
  local count=0
  for f in "$debs"/*.deb; do
    [ -e "$f" ] || { echo "no .deb files in $debs"; exit 1; }
    dpkg-deb -x "$f" "$deps"; echo "unpacked $(basename "$f")"; count=$((count + 1))
  done
  echo "$count packages unpacked into $deps"
  # A -dev package's libX.so points at its runtime package's libX.so.N. Where that runtime was not
  # carried (zlib: every host has libz.so.1), point the link at the host's own copy.
  set +e
  find "$deps" -xtype l -name 'lib*.so' | while read -r link; do
    local stem target
    stem=$(basename "$link")
    target=$("${LDCONFIG:-$(command -v ldconfig || echo /sbin/ldconfig)}" -p | awk -v s="$stem." 'index($1, s) == 1 && /x86-64/ {print $NF; exit}')
    if [ -n "$target" ]; then
      ln -sfn "$target" "$link"; echo "$stem -> $target (the host's)"
    else
      echo "$stem: dangling, the host has no $stem.* (fine unless something links it)"
    fi
  done
  true
}

phase_configure() {
  set -e
  local generator args=()
  echo "LibTorch: $torch_prefix (CUDA ${torch_cuda:-none})"
  if [ -n "$torch_cuda" ]; then
    [ -x "$nvcc" ] || { echo "this LibTorch is built for CUDA $torch_cuda: configuring needs nvcc (set CUDACXX)"; exit 1; }
    "$nvcc" --version | tail -2
    args+=(-DCMAKE_CUDA_COMPILER="$nvcc")
  fi
  generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
  if [ -z "$generator" ]; then
    if command -v ninja >/dev/null; then generator=Ninja
    elif [ -x "$deps/usr/bin/ninja" ]; then generator=Ninja; args+=(-DCMAKE_MAKE_PROGRAM="$deps/usr/bin/ninja")
    else generator="Unix Makefiles"; fi
  elif [ "$generator" = Ninja ] && ! command -v ninja >/dev/null; then
    args+=(-DCMAKE_MAKE_PROGRAM="$deps/usr/bin/ninja")
  fi
  # Many cores: one unit per source builds faster; few cores: the merged units do.
  local unity=ON; [ "$jobs" -ge 8 ] && unity=OFF
  echo "generator: $generator, TANDEM_UNITY_BUILD=$unity"
  cmake -S "$root" -B "$build_dir" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DTANDEM_UNITY_BUILD="$unity" \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" "${args[@]}"
  echo "found:"; grep -E '^(Torch|yaml-cpp|fmt|CLI11|nlohmann_json|GTest)_DIR:' "$build_dir/CMakeCache.txt" || true
  grep -E '^ZLIB_LIBRARY_RELEASE:' "$build_dir/CMakeCache.txt" || true
}

keep_going() {  # the build tool's "go on after an error" flag
  if [ -f "$build_dir/build.ninja" ]; then echo -k 0; else echo -k; fi
}

phase_build_core() {
  cmake --build "$build_dir" -j "$jobs" --target tandem bench_gpu dist_tests ddp_tests train_tests -- $(keep_going)
  local code=$?
  echo "libraries not found at run time:"; ldd "$build_dir/tandem" "$build_dir/bench/gpu/bench_gpu" 2>/dev/null | grep "not found" || echo "(none)"
  return $code
}

phase_cuda_tests() {
  # GPU-only tests carry a _CUDA suffix (and skip themselves without a GPU). Run one at a time:
  # they share the GPU. After build-core, only the dist, ddp and train tests are built.
  ctest --test-dir "$build_dir" -R '_CUDA' --no-tests=error --output-on-failure --timeout 120 -j 1
}

phase_bench() {
  local t=$1
  "$root/bench/gpu/run.sh" --device "$device" --python "$PYTHON" --bin "$build_dir/bench/gpu/bench_gpu" \
    --out "$out/bench" --timeout "$t" --window-s 0.15
}

# recipe_overrides KEY=VALUE...: those the recipe schema of this build knows (tandem validate).
recipe_overrides() {
  local kept=() o
  for o in "$@"; do
    if "$build_dir/tandem" validate "$root/recipes/char_lstm.yaml" "$o" >/dev/null 2>&1; then kept+=("$o")
    else echo "note: this build's recipe schema lacks '${o%%=*}'; running without $o" >&2; fi
  done
  echo "${kept[@]}"
}

phase_recipe() {
  local precision=$1 nproc overrides
  [ -x "$build_dir/tandem" ] || { echo "no $build_dir/tandem: the build-core phase did not make it"; return 127; }
  if [ "$device" = cuda ]; then nproc=gpu; else nproc=1; fi
  overrides=$(recipe_overrides "trainer.device=$device" ${precision:+"trainer.precision=$precision"})
  set -x
  "$build_dir/tandem" launch --nproc-per-node "$nproc" "$root/recipes/char_lstm.yaml" trainer.epochs=1 $overrides \
    --run-dir "$build_dir/check-runs/recipe${precision:+-$precision}-$(date +%H%M%S)"
}

phase_build_all() {
  cmake --build "$build_dir" -j "$jobs" -- $(keep_going)
}

phase_suite() {
  local stop=$1
  # The _CUDA tests ran in their own phases. --stop-time: ctest stops starting and running tests
  # at that time and still prints its summary.
  ctest --test-dir "$build_dir" -E '_CUDA' --output-on-failure -j "$(( jobs > 2 ? jobs / 2 : 1 ))" --timeout 300 \
    --stop-time "$(date -d "@$stop" +%H:%M:%S)"
}
export -f phase_host phase_deps phase_configure keep_going phase_build_core phase_cuda_tests phase_bench \
  recipe_overrides phase_recipe phase_build_all phase_suite

# ---- run --------------------------------------------------------------------------------------------
say "Tandem GPU check on $device ($gpus GPU(s)), $jobs jobs, budget $budget s; logs and summary.md in $out"
run_phase host 20 phase_host
run_phase deps "$(limit 30 400)" phase_deps
if [ "${rc[deps]}" = 0 ]; then run_phase configure "$(limit 60 340)" phase_configure
else skip_phase configure "the dependencies did not unpack"; fi
if [ "${rc[configure]}" = 0 ]; then
  run_phase build-core "$(limit 220 150)" phase_build_core
  run_phase cuda-tests "$(limit 60 120)" phase_cuda_tests
  bench_limit=$(limit 130 45)
  run_phase bench "$bench_limit" "phase_bench $(( bench_limit - 15 ))"
  run_phase recipe "$(limit 60 25)" "phase_recipe ''"
  if [ ! -x "$build_dir/tandem" ]; then skip_phase recipe-bf16 "no tandem binary"
  elif "$build_dir/tandem" validate recipes/char_lstm.yaml trainer.precision=bf16-mixed >/dev/null 2>&1; then
    run_phase recipe-bf16 "$(limit 40 20)" "phase_recipe bf16-mixed"
  else skip_phase recipe-bf16 "this build's recipe schema has no trainer.precision"; fi
  if [ "$(left)" -gt 40 ]; then
    run_phase build-all "$(limit 480 40)" phase_build_all
    # Every binary is built now: the _CUDA tests of the others (models, survival ...) first.
    if [ "$(left)" -gt 30 ]; then run_phase cuda-tests-all "$(limit 60 20)" phase_cuda_tests
    else skip_phase cuda-tests-all "no time left"; fi
    if [ "$(left)" -gt 25 ]; then
      stop=$(( deadline - 12 ))
      run_phase suite "$(( stop - $(date +%s) + 5 ))" "phase_suite $stop"
    else skip_phase suite "no time left"; fi
  else
    for p in build-all cuda-tests-all suite; do skip_phase "$p" "no time left"; done
  fi
else
  for p in build-core cuda-tests bench recipe recipe-bf16 build-all cuda-tests-all suite; do skip_phase "$p" "configure failed"; done
fi
total=$(now)

# ---- summary ----------------------------------------------------------------------------------------
summary=$out/summary.md
section() { printf '\n## %s\n\n' "$1"; }
fenced() { echo '```'; cat; echo '```'; }
result_of() {  # one line on what a phase found
  local p=$1 log; log=$(log_of "$p")
  [ -n "$log" ] || return 0
  case $p in
    host) grep -m1 '^torch ' "$log" ;;
    deps) grep -m1 'packages unpacked' "$log" ;;
    configure) grep -m1 '^generator' "$log" ;;
    build-core|build-all) echo "$(grep -c 'error:' "$log") compiler/linker errors" ;;
    cuda-tests|cuda-tests-all) grep -E 'tests passed|No tests were found' "$log" | tail -1 ;;
    suite)
      echo "$(grep -E 'tests passed' "$log" | tail -1)$(grep -q 'The stop time has been passed' "$log" &&
        echo "; stopped at the budget after $(grep -cE '^ *[0-9]+/[0-9]+ Test' "$log") of" \
             "$(grep -oE '^ *[0-9]+/[0-9]+ Test' "$log" | head -1 | sed -E 's|.*/([0-9]+).*|\1|') tests" \
             "(the one running then counts as a timeout)")" ;;
    bench) [ -f "$out/bench/table.md" ] && echo "$(grep -cE '^\| [0-9]' "$out/bench/table.md") rows; targets:" \
             "$(grep -c '^- \*\*met' "$out/bench/table.md") met, $(grep -c '^- \*\*not met' "$out/bench/table.md") not met," \
             "$(grep -c '^- not measured' "$out/bench/table.md") not measured" ;;
    recipe|recipe-bf16) grep -E 'samples/s' "$log" | tail -1 | sed 's/.*\(epoch\)/\1/' | cut -c1-120 ;;
  esac
}
{
  echo "# Tandem GPU check"
  echo
  echo "$(date -u +%FT%TZ); Tandem $(git log -1 --format='%h' 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (with local changes)');" \
       "$([ "$device" = cuda ] && echo "$gpus GPU(s)" || echo 'CPU dry run (no GPU: CUDA tests skip, the benchmark runs small CPU batches)');" \
       "$jobs build jobs; budget $budget s; total $total s."
  log=$(log_of host); [ -n "$log" ] && grep -v '^+' "$log" | grep -E '^(torch|nccl) |,.*MiB|PRETTY|^gcc|^c\+\+|^cmake version' | sed 's/^/    /'
  echo
  echo "| phase | rc | wall s | limit s | result | log |"
  echo "|---|---|---|---|---|---|"
  for p in "${phases[@]}"; do
    r=${rc[$p]}; [ "$r" = 0 ] && r="0 ok"
    echo "| $p | $r | ${wall[$p]} | ${limit_of[$p]} | $(result_of "$p" | tr '|' '/')${note[$p]:+ (${note[$p]})} | $(basename "$(log_of "$p")") |"
  done
  for p in build-core build-all; do
    log=$(log_of "$p")
    if [ -n "$log" ] && grep -q -E 'error:|undefined reference' "$log"; then
      section "Build errors in $p (the first 20 kinds, by count)"
      grep -E 'error:|undefined reference' "$log" | sed -E 's|^[^ :]*/||; s|\(\.text[^)]*\)||' | sort | uniq -c | sort -rn \
        | head -20 | cut -c1-240 | fenced
    fi
  done
  section "CUDA tests"
  for p in cuda-tests cuda-tests-all; do
    log=$(log_of "$p")
    [ -n "$log" ] && { echo "$p:"; echo; grep -E 'Test +#|tests passed|FAILED|No tests' "$log" | fenced; echo; }
  done
  section "GPU benchmark (bench/gpu/run.sh)"
  if [ -f "$out/bench/table.md" ]; then cat "$out/bench/table.md"; else echo "No table: see $(basename "$(log_of bench)")."; fi
  for p in recipe recipe-bf16; do
    section "Default recipe, 1 epoch ($p): tandem launch --nproc-per-node $([ "$device" = cuda ] && echo gpu || echo 1)"
    log=$(log_of "$p")
    [ -n "$log" ] && {
      grep -m1 ' launch ' "$log" | sed 's/^+ //'
      grep -E '^note|nproc-per-node [a-z]+:|\[launch\] [0-9]+ worker|workers x batch|error|Error|failed|killed' "$log" | grep -v 'frame #' | head -8
      grep -E 'step [0-9]+/[0-9]+ ' "$log" | tail -1
      grep -E 'done: |finished [0-9]+ steps|\[launch\] done' "$log" | tail -4
      grep -E '\[sample\] ' "$log" | head -4
    } | fenced
  done
  section "Whole suite"
  log=$(log_of suite)
  if [ -n "$log" ]; then
    { grep -E 'tests passed|Total Test time' "$log"; sed -n '/The following tests/,$p' "$log" | head -40; } | fenced
  else echo "${note[suite]:-not run}"; fi
} > "$summary"

# A skipped phase (no time left, a recipe key this build lacks) is named in the summary, not failed.
failed=0
for p in "${phases[@]}"; do case ${rc[$p]} in 0|skipped) ;; *) failed=1 ;; esac; done
say "done in $total s: $summary"
cat "$summary"
exit "$failed"
