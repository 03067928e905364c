#!/usr/bin/python3
"""scikit-learn's side of bench/logistic: fits LogisticRegression(solver='lbfgs')
on the rows logistic_bench dumped (X.f64, y.f64: raw float64) and prints one
JSON object: seconds (fit only), coefficients (then the intercept), iterations,
and peak memory of this process."""
import json
import resource
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

folder, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
X = np.fromfile(f"{folder}/X.f64", dtype=np.float64).reshape(rows, cols)
y = np.fromfile(f"{folder}/y.f64", dtype=np.float64)
load_seconds = time.perf_counter() - t0

model = LogisticRegression(solver="lbfgs", C=1.0)  # sklearn's defaults: tol 1e-4, max_iter 100
t0 = time.perf_counter()
model.fit(X, y)
seconds = time.perf_counter() - t0
print(json.dumps({
    "seconds": seconds,
    "load_seconds": load_seconds,
    "coefficients": [float(v) for v in model.coef_[0]] + [float(model.intercept_[0])],
    "iterations": int(model.n_iter_[0]),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
}))
