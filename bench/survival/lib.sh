# Shared by the survival benchmarks (sourced, not run).

TANDEM=${TANDEM:-build/tandem}
DATA=../shared/data

# require FILE...: exits 0 with a note when a data file is not in ../shared/data
# (the data are read from there, never copied), and 1 when tandem is not built.
require() {
  for f in "$@"; do
    [[ -f $DATA/$f ]] || { echo "[bench] skipped: $DATA/$f is not here"; exit 0; }
  done
  [[ -x $TANDEM ]] || { echo "[bench] $TANDEM not found; build first" >&2; exit 1; }
}

# feature_columns DATASET: the feature columns of DATA/DATASET.csv (every header
# name but the outcome and the split column), comma-separated.
feature_columns() {
  head -1 "$DATA/$1.csv" | tr -d '\r' | tr ',' '\n' | grep -vx 'duration\|event\|split' | paste -sd,
}

# metrics_of OUTPUT: "td_concordance ibs c_index" of the run whose `tandem launch`
# output is OUTPUT, from the last epoch record of its metrics.jsonl (the final
# validation, which these benchmarks make the test split or test fold).
metrics_of() {
  local run last
  run=$(echo "$1" | sed -n 's/.*run directory \(.*\)$/\1/p' | tail -1)
  last=$(grep '"kind":"epoch"' "$run/metrics.jsonl" | tail -1)
  for key in val_td_concordance val_ibs val_c_index; do
    echo "$last" | sed -n "s/.*\"$key\":\([-0-9.e+]*\).*/\1/p"
  done | paste -sd' '
}

# mean_sd: reads lines of three numbers and prints the count, then
# "mean ± sd" of each column (sample sd; 0 for one line).
mean_sd() {
  awk '
    { for (k = 1; k <= 3; ++k) { sum[k] += $k; sq[k] += $k * $k } }
    END {
      printf "%5d ", NR
      for (k = 1; k <= 3; ++k) {
        mean = sum[k] / NR; var = (NR > 1) ? (sq[k] - NR * mean * mean) / (NR - 1) : 0
        printf " %.4f ± %.4f  ", mean, sqrt(var > 0 ? var : 0)
      }
    }'
}

# summary_row DATASET MODEL RESULTS START: one table row: the names, the count
# and mean ± sd of RESULTS (lines of three numbers), the seconds since START.
summary_row() {
  printf '%-9s %-16s' "$1" "$2"
  echo -n "$3" | mean_sd
  echo "$(($(date +%s) - $4))"
}
