#!/usr/bin/env bash
# Cross-validates each survival recipe the way pycox's published figures were
# measured: the DeepSurv train and test rows pooled, K seeded folds, each fold
# the test set once, trained on the other K-1 folds. Prints the test folds'
# time-dependent concordance (Antolini), integrated Brier score and Harrell's C
# as mean ± sd over the folds (fold k trains with seed k).
#
#   bench/survival/cv.sh [FOLDS] [WORKERS]      (defaults: 5 folds, 1 worker)
#   REPEATS=2 bench/survival/cv.sh              (repeated: split seeds 0..REPEATS-1)
#   DATASETS="metabric" MODELS="deepsurv" bench/survival/cv.sh 5 2   (a subset)
#   EXTRA="optim.lr=0.001 trainer.epochs=100" bench/survival/cv.sh  (recipe overrides)
#
# Each recipe is used as shipped, with its split replaced by
# data.split_column='' data.features=<the x columns> data.folds=FOLDS data.fold=k.
# Recipes with data.holdout_fraction take their holdout from the training
# folds; the test fold is never read before the evaluation.
# Run from the repository root after building (build/tandem). The data are read
# from ../shared/data and never copied; without them the script says so and
# exits 0. Each run's directory is runs/cv_<dataset>_<model>_r<repeat>_f<fold>/...
set -euo pipefail
FOLDS=${1:-5}
WORKERS=${2:-1}
REPEATS=${REPEATS:-1}
TANDEM=${TANDEM:-build/tandem}
DATA=../shared/data
if [[ ! -f $DATA/metabric.csv || ! -f $DATA/support.csv ]]; then
  echo "[bench] skipped: $DATA/metabric.csv and $DATA/support.csv are not here"
  exit 0
fi
[[ -x $TANDEM ]] || { echo "[bench] $TANDEM not found; build first" >&2; exit 1; }

printf '%-9s %-16s %5s  %-17s  %-17s  %-17s  %s\n' dataset model runs td_concordance ibs c_index seconds
for dataset in ${DATASETS:-metabric support}; do
  # The feature columns: every header name but the outcome and the split column.
  features=$(head -1 "$DATA/$dataset.csv" | tr -d '\r' | tr ',' '\n' | grep -vx 'duration\|event\|split' | paste -sd,)
  for model in ${MODELS:-logistic_hazard deepsurv cox_linear}; do
    recipe=recipes/${dataset}_${model}.yaml
    results=""
    start=$(date +%s)
    for ((repeat = 0; repeat < REPEATS; repeat++)); do
      for ((fold = 0; fold < FOLDS; fold++)); do
        out=$("$TANDEM" launch "$recipe" --nproc-per-node "$WORKERS" "data.split_column=''" \
                "data.features=$features" data.folds="$FOLDS" data.fold=$fold data.split_seed=$repeat \
                trainer.seed=$fold ${EXTRA:-} name=cv_${dataset}_${model}_r${repeat}_f$fold 2>&1) ||
          { echo "$out" | tail -20 >&2; exit 1; }
        run=$(echo "$out" | sed -n 's/.*run directory \(.*\)$/\1/p' | tail -1)
        # The last epoch record of metrics.jsonl holds the final validation (= test fold) metrics.
        last=$(grep '"kind":"epoch"' "$run/metrics.jsonl" | tail -1)
        get() { echo "$last" | sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }
        results+="$(get val_td_concordance) $(get val_ibs) $(get val_c_index)"$'\n'
      done
    done
    seconds=$(( $(date +%s) - start ))
    echo -n "$results" | awk -v d="$dataset" -v m="$model" -v s="$seconds" '
      { for (k = 1; k <= 3; ++k) { sum[k] += $k; sq[k] += $k * $k } }
      END {
        printf "%-9s %-16s %5d ", d, m, NR
        for (k = 1; k <= 3; ++k) {
          mean = sum[k] / NR; var = (NR > 1) ? (sq[k] - NR * mean * mean) / (NR - 1) : 0
          printf " %.4f ± %.4f  ", mean, sqrt(var > 0 ? var : 0)
        }
        printf "%s\n", s
      }'
  done
done
