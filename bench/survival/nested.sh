#!/usr/bin/env bash
# Nested cross-validation of one survival recipe, as pycox chose its
# hyper-parameters: the rows pooled and cut into FOLDS folds; for each test
# fold, every candidate setting trains on the other folds minus a 20 %
# tuning share (data.tune_fraction=0.2) and is scored on that share; the
# setting with the best tuning td-concordance is trained again on all the other
# folds and scored once on the test fold. The test fold is never read before
# that last evaluation. Prints each fold's choice, then the test folds' mean ± sd.
#
#   bench/survival/nested.sh [FOLDS] [WORKERS]     (defaults: 5 folds, 1 worker)
#   DATASET=support MODEL=logistic_hazard bench/survival/nested.sh
#
# The candidates are the lines of CANDIDATES (overrides, one setting per line);
# the default list is below, with the recipe as shipped first. Run from the
# repository root after building; the data are read from ../shared/data.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FOLDS=${1:-5}
WORKERS=${2:-1}
DATASET=${DATASET:-metabric}
MODEL=${MODEL:-deepsurv}
require "$DATASET.csv"
DEFAULT_CANDIDATES='
optim.weight_decay=0.001
model.dropout=0.5
model.hidden=[128] model.dropout=0.5
optim.lr=0.001 trainer.epochs=1000
model.hidden=[32,32] model.batch_norm=true model.dropout=0.1 trainer.batch_size=256 trainer.epochs=100 data.holdout_fraction=0.2'
CANDIDATES=${CANDIDATES-$DEFAULT_CANDIDATES}
mapfile -t candidates < <(printf '(recipe as shipped)\n%s\n' "$CANDIDATES" | sed '/^[[:space:]]*$/d')

recipe=recipes/${DATASET}_${MODEL}.yaml
features=$(feature_columns "$DATASET")
split=("data.split_column=''" "data.features=$features" "data.folds=$FOLDS" "data.split_seed=0")
run() {  # run FOLD NAME [override ...]: prints "td ibs c" of the run's final validation
  local fold=$1 name=$2
  shift 2
  local out
  out=$("$TANDEM" launch "$recipe" --nproc-per-node "$WORKERS" "${split[@]}" data.fold="$fold" \
          trainer.seed="$fold" "$@" name="$name" 2>&1) || { echo "$out" | tail -20 >&2; exit 1; }
  metrics_of "$out"
}
settings() {  # the overrides of candidate K, word-split
  [[ $1 -eq 0 ]] || echo "${candidates[$1]}"
}

start=$(date +%s)
results=""
for ((fold = 0; fold < FOLDS; fold++)); do
  best=-1 best_td=-1
  for ((k = 0; k < ${#candidates[@]}; k++)); do
    # shellcheck disable=SC2046
    td=$(run "$fold" "nested_${DATASET}_${MODEL}_f${fold}_c$k" data.tune_fraction=0.2 $(settings "$k") | cut -d' ' -f1)
    if awk -v a="$td" -v b="$best_td" 'BEGIN { exit !(a > b) }'; then best=$k best_td=$td; fi
  done
  # shellcheck disable=SC2046
  test=$(run "$fold" "nested_${DATASET}_${MODEL}_f${fold}_test" $(settings "$best"))
  echo "fold $fold: chose ${candidates[$best]} (tuning td-concordance $best_td); test td / ibs / c: $test"
  results+="$test"$'\n'
done
summary_row "$DATASET" "$MODEL" "$results" "$start"
