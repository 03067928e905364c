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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORKERS=${1:?usage: variant.sh WORKERS [override ...]}
shift
require metabric.csv
results=""
for seed in 0 1 2 3 4; do
  extra=()
  [[ -n ${HOLDOUT:-} ]] && extra=(data.tune_fraction=0.2 data.split_seed=$((seed % 2)))
  out=$("$TANDEM" launch recipes/metabric_deepsurv.yaml --nproc-per-node "$WORKERS" "$@" "${extra[@]}" \
          trainer.seed=$seed name=bench_variant_s$seed 2>&1) || { echo "$out" | tail -20 >&2; exit 1; }
  results+="$(metrics_of "$out")"$'\n'
done
printf '%s td_concordance / ibs / c_index (runs, mean ± sd):' "$([[ -n ${HOLDOUT:-} ]] && echo holdout || echo test)"
echo -n "$results" | mean_sd
echo
