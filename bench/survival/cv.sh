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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FOLDS=${1:-5}
WORKERS=${2:-1}
REPEATS=${REPEATS:-1}
require metabric.csv support.csv

printf '%-9s %-16s %5s  %-17s  %-17s  %-17s  %s\n' dataset model runs td_concordance ibs c_index seconds
for dataset in ${DATASETS:-metabric support}; do
  features=$(feature_columns "$dataset")
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
        results+="$(metrics_of "$out")"$'\n'
      done
    done
    summary_row "$dataset" "$model" "$results" "$start"
  done
done
