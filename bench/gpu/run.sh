#!/usr/bin/env bash
# The GPU benchmark: PyTorch (pytorch_char_lstm.py: eager, DDP at world 1, the whole step in one
# CUDA graph) and Tandem (bench_gpu: its DDP at world 1), one after the other in one run on one
# device, then the table side by side with the issue's targets (table.py). See docs/gpu.md.
#
#   bench/gpu/run.sh                          # a GPU if there is one, else the CPU with batches 64,256
#   bench/gpu/run.sh --device cpu --batches 64 --precisions fp32
#   bench/gpu/run.sh --python /opt/venv/bin/python --bin build-gpu/bench/gpu/bench_gpu --timeout 200
#
# Options: --device auto|cuda|cpu, --batches LIST, --precisions LIST (fp32,bf16), --window-s S,
# --threads N (CPU threads on both sides; 0, the default, leaves each library's own),
# --python PY (a Python with torch; default $PYTHON, else python3), --bin BENCH_GPU (default: the
# bench_gpu of --build-dir, built if missing; --build-dir default build-gpu if configured, else build),
# --out DIR (default runs/bench_gpu/<time>), --timeout S (both sides together, default 300).
# Writes DIR/pytorch.jsonl, DIR/tandem.jsonl and DIR/table.md. Exit 0 when both sides measured
# everything (met targets or not), 1 when a side failed or ran out of time, 2 on bad arguments.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/bench/gpu

device=auto batches="" precisions=fp32,bf16 window_s=0.25 python=${PYTHON:-python3}
bin="" build_dir="" out="" budget=300 threads=0
while (($#)); do
  case $1 in
    --device) device=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --precisions) precisions=$2; shift 2 ;;
    --window-s) window_s=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --timeout) budget=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "[bench] unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
say() { echo "[bench] [$(elapsed) s] $*"; }

if ! "$python" -c 'import torch' >/dev/null 2>&1; then
  echo "[bench] $python cannot import torch; pass --python (or PYTHON=) a Python that has PyTorch" >&2
  exit 2
fi
if [ "$device" = auto ]; then
  device=$("$python" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")' 2>/dev/null)
fi
case $device in cuda|cpu) ;; *) echo "[bench] --device: expected auto, cuda or cpu, got '$device'" >&2; exit 2 ;; esac
if [ -z "$batches" ]; then
  if [ "$device" = cuda ]; then batches=64,256,1024,4096,16384,65536; else batches=64,256; fi
fi

if [ -z "$bin" ]; then
  if [ -z "$build_dir" ]; then
    build_dir=$root/build
    if [ -f "$root/build-gpu/CMakeCache.txt" ]; then build_dir=$root/build-gpu; fi
  fi
  bin=$build_dir/bench/gpu/bench_gpu
  if [ ! -x "$bin" ]; then
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
      echo "[bench] no bench_gpu and no configured build in $build_dir; configure one (tools/setup.sh) or pass --bin" >&2
      exit 2
    fi
    say "building bench_gpu in $build_dir"
    timeout "$budget" cmake --build "$build_dir" --target bench_gpu >/dev/null || { echo "[bench] building bench_gpu failed" >&2; exit 1; }
  fi
fi
[ -x "$bin" ] || { echo "[bench] $bin is not an executable" >&2; exit 2; }

out=${out:-$root/runs/bench_gpu/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
common=(--device "$device" --batches "$batches" --precisions "$precisions" --window-s "$window_s" --threads "$threads")

# Three runs, each under its own limit: PyTorch eager and DDP, then Tandem, then PyTorch's CUDA
# graph in a process of its own, last, so that a capture that fails (and may leave CUDA unusable
# in that process) costs only its own column. A run that ends early leaves its time to the next.
limit_for() {  # the time for the next run: SHARE percent of what is left, at least 20 s
  local l=$(( (budget - $(elapsed)) * $1 / 100 ))
  echo $(( l < 20 ? 20 : l ))
}
side() {  # side NAME LIMIT OUTPUT COMMAND...: runs COMMAND under timeout, appends to OUTPUT
  local name=$1 limit=$2 output=$3 code
  shift 3
  say "$name on $device, batches $batches, $precisions; at most $limit s"
  timeout --kill-after=10 "$limit" "$@" >> "$out/$output.jsonl" 2>> "$out/$output.err"
  code=$?
  say "$name done, rc=$code"
  return $code
}
: > "$out/pytorch.jsonl"; : > "$out/pytorch.err"; : > "$out/tandem.jsonl"; : > "$out/tandem.err"
side "PyTorch eager and DDP ($python)" "$(limit_for 50)" pytorch \
  "$python" "$here/pytorch_char_lstm.py" "${common[@]}" --variants eager,ddp
py_rc=$?
side "Tandem DDP ($bin)" "$(limit_for 60)" tandem "$bin" "${common[@]}"
tandem_rc=$?
if [ "$device" = cuda ]; then
  side "PyTorch CUDA graph" "$(limit_for 100)" pytorch "$python" "$here/pytorch_char_lstm.py" "${common[@]}" --variants graph
  graph_rc=$?
  [ "$py_rc" -ne 0 ] || py_rc=$graph_rc
fi

echo
"$python" "$here/table.py" "$out/pytorch.jsonl" "$out/tandem.jsonl" "$batches" "$precisions" | tee "$out/table.md"
echo
say "results in $out"
for side in pytorch tandem; do
  rc=$([ "$side" = pytorch ] && echo $py_rc || echo $tandem_rc)
  if [ "$rc" -ne 0 ]; then
    reason="exit $rc"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then reason="ran out of its time (exit $rc)"; fi
    echo "[bench] $side side: $reason; the last lines of $out/$side.err:" >&2
    tail -5 "$out/$side.err" | grep -v -i "numpy" >&2 || true
  fi
done
[ "$py_rc" -eq 0 ] && [ "$tandem_rc" -eq 0 ]
