#!/usr/bin/env bash
# Trains each survival recipe on METABRIC and SUPPORT with several seeds and
# prints the test split's time-dependent concordance (Antolini), integrated
# Brier score and Harrell's C as mean ± sd over the seeds.
#
#   bench/survival/run.sh [SEEDS] [WORKERS]     (defaults: 5 seeds, 1 worker)
#   DATASETS="metabric" MODELS="deepsurv logistic_hazard" bench/survival/run.sh 5 2   (a subset)
#
# Workers go through `tandem launch --nproc-per-node WORKERS`. Recipes with
# data.holdout_fraction report the epoch chosen on the holdout (the last
# validation is the best epoch's weights on the test split).
# Run from the repository root after building (build/tandem). The data are read
# from ../shared/data and never copied; without them the script says so and
# exits 0. Each run's directory is runs/bench_<dataset>_<model>_s<seed>/...
set -euo pipefail
SEEDS=${1:-5}
WORKERS=${2:-1}
TANDEM=${TANDEM:-build/tandem}
DATA=../shared/data
if [[ ! -f $DATA/metabric.csv || ! -f $DATA/support.csv ]]; then
  echo "[bench] skipped: $DATA/metabric.csv and $DATA/support.csv are not here"
  exit 0
fi
[[ -x $TANDEM ]] || { echo "[bench] $TANDEM not found; build first" >&2; exit 1; }

printf '%-9s %-16s %5s  %-17s  %-17s  %-17s  %s\n' dataset model seeds td_concordance ibs c_index seconds
for dataset in ${DATASETS:-metabric support}; do
  for model in ${MODELS:-logistic_hazard deepsurv cox_linear}; do
    recipe=recipes/${dataset}_${model}.yaml
    results=""
    start=$(date +%s)
    for ((seed = 0; seed < SEEDS; seed++)); do
      out=$("$TANDEM" launch "$recipe" --nproc-per-node "$WORKERS" trainer.seed=$seed \
              name=bench_${dataset}_${model}_s$seed 2>&1) || { echo "$out" | tail -20 >&2; exit 1; }
      run=$(echo "$out" | sed -n 's/.*run directory \(.*\)$/\1/p' | tail -1)
      # The last epoch record of metrics.jsonl holds the final validation (= test split) metrics.
      last=$(grep '"kind":"epoch"' "$run/metrics.jsonl" | tail -1)
      get() { echo "$last" | sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }
      results+="$(get val_td_concordance) $(get val_ibs) $(get val_c_index)"$'\n'
    done
    seconds=$(( $(date +%s) - start ))
    echo -n "$results" | awk -v d="$dataset" -v m="$model" -v n="$SEEDS" -v s="$seconds" '
      { for (k = 1; k <= 3; ++k) { sum[k] += $k; sq[k] += $k * $k } }
      END {
        printf "%-9s %-16s %5d ", d, m, n
        for (k = 1; k <= 3; ++k) {
          mean = sum[k] / NR; var = (NR > 1) ? (sq[k] - NR * mean * mean) / (NR - 1) : 0
          printf " %.4f ± %.4f  ", mean, sqrt(var > 0 ? var : 0)
        }
        printf "%s\n", s
      }'
  done
done
