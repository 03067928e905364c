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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SEEDS=${1:-5}
WORKERS=${2:-1}
require metabric.csv support.csv

printf '%-9s %-16s %5s  %-17s  %-17s  %-17s  %s\n' dataset model seeds td_concordance ibs c_index seconds
for dataset in ${DATASETS:-metabric support}; do
  for model in ${MODELS:-logistic_hazard deepsurv cox_linear}; do
    recipe=recipes/${dataset}_${model}.yaml
    results=""
    start=$(date +%s)
    for ((seed = 0; seed < SEEDS; seed++)); do
      out=$("$TANDEM" launch "$recipe" --nproc-per-node "$WORKERS" trainer.seed=$seed \
              name=bench_${dataset}_${model}_s$seed 2>&1) || { echo "$out" | tail -20 >&2; exit 1; }
      results+="$(metrics_of "$out")"$'\n'
    done
    summary_row "$dataset" "$model" "$results" "$start"
  done
done
