#!/usr/bin/env bash
# bench/logistic: scikit-learn's LogisticRegression(solver='lbfgs') against each
# Tandem full-batch solver at 1 and 2 workers, side by side in one run, on the
# same synthetic float64 rows (8,000,000 x 15 by default).
#
#   bench/logistic/run.sh [ROWS] [COLUMNS]
#
# Needs a Release build (build/ by default, BUILD=dir to change). scikit-learn is
# skipped, with a message, when /usr/bin/python3 cannot import it; the Tandem
# solvers then aim at a fixed relative coefficient error of 1e-4.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rows=${1:-8000000}
cols=${2:-15}
build=${BUILD:-build}
cmake --build "$build" --target logistic_bench >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-logistic-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

sklearn_args=()
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  "$build/bench/logistic/logistic_bench" dump --rows "$rows" --columns "$cols" --out "$work"
  echo "[bench] scikit-learn: fitting LogisticRegression(solver='lbfgs') on ${rows} x ${cols}..."
  /usr/bin/python3 bench/logistic/sklearn_fit.py "$work" "$rows" "$cols" > "$work/sklearn.json"
  rm -f "$work/X.f64" "$work/y.f64"
  sklearn_args=(--sklearn "$work/sklearn.json")
else
  echo "[bench] scikit-learn is not installed (/usr/bin/python3 -c 'import sklearn' failed): skipping it"
fi
"$build/bench/logistic/logistic_bench" run --rows "$rows" --columns "$cols" --out "$work" "${sklearn_args[@]}"
