#!/usr/bin/env bash
# Trains recipes/metabric_deepsurv.yaml with the given overrides for seeds 0-4
# and prints td-concordance, IBS and Harrell's C as mean ± sd (docs/survival.md,
# "third round"). With HOLDOUT=1 it validates on 20 % of the training rows
# (data.tune_fraction=0.2, split_seed = seed % 2) instead of the test split:
# the figure to choose settings by.
#
#   bench/survival/variant.sh WORKERS [override ...]
#   HOLDOUT=1 bench/survival/variant.sh 1 model.hidden=[41] trainer.batch_size=2048
set -euo pipefail
WORKERS=${1:?usage: variant.sh WORKERS [override ...]}
shift
TANDEM=${TANDEM:-build/tandem}
[[ -f ../shared/data/metabric.csv ]] || { echo "[bench] skipped: ../shared/data/metabric.csv is not here"; exit 0; }
[[ -x $TANDEM ]] || { echo "[bench] $TANDEM not found; build first" >&2; exit 1; }
results=""
for seed in 0 1 2 3 4; do
  extra=()
  [[ -n ${HOLDOUT:-} ]] && extra=(data.tune_fraction=0.2 data.split_seed=$((seed % 2)))
  out=$("$TANDEM" launch recipes/metabric_deepsurv.yaml --nproc-per-node "$WORKERS" "$@" "${extra[@]}" \
          trainer.seed=$seed name=bench_variant_s$seed 2>&1) || { echo "$out" | tail -20 >&2; exit 1; }
  run=$(echo "$out" | sed -n 's/.*run directory \(.*\)$/\1/p' | tail -1)
  last=$(grep '"kind":"epoch"' "$run/metrics.jsonl" | tail -1)
  get() { echo "$last" | sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }
  results+="$(get val_td_concordance) $(get val_ibs) $(get val_c_index)"$'\n'
done
echo -n "$results" | awk -v what="${HOLDOUT:+holdout}" '
  { for (k = 1; k <= 3; ++k) { sum[k] += $k; sq[k] += $k * $k } }
  END {
    printf "%s td_concordance / ibs / c_index:", (what == "" ? "test" : what)
    for (k = 1; k <= 3; ++k) {
      mean = sum[k] / NR; var = (sq[k] - NR * mean * mean) / (NR - 1)
      printf "  %.4f ± %.4f", mean, sqrt(var > 0 ? var : 0)
    }
    printf "\n"
  }'
