// Newton's method (iteratively reweighted least squares for the logistic
// loss): each pass over the data returns the gradient and the Hessian
// X^T diag(p(1-p)) X / n, allreduced together; the step solves H d = -g by
// Cholesky and is damped by the same backtracking line search as the others.
// The trial point's pass also computes its Hessian, so an accepted unit step
// (the usual case) costs one pass per iteration.
#include "models/logistic_regression/solver_impl.h"

namespace tandem::models::detail {

SolverResult newton(LossOracle& oracle, const Penalty& penalty, const SolverOptions& o, Vec w0, Progress& progress) {
  const int64_t p = oracle.dim();
  Vec hess;
  Point x = evaluate(oracle, penalty, std::move(w0), &hess);
  int64_t evals = 1, it = 0;
  while (x.optimality > o.tol && it < o.max_iter) {
    Vec rhs = x.grad;
    for (auto& v : rhs) v = -v;
    Vec d;
    // Without a penalty the Hessian can be singular (separable or collinear
    // data); add a growing multiple of the identity until Cholesky succeeds.
    double shift = 0.0;
    while (true) {
      Vec h = hess;
      for (int64_t j = 0; j < p; ++j) h[j * p + j] += shift;
      if (cholesky_solve(std::move(h), rhs, p, d)) break;
      shift = shift == 0.0 ? 1e-10 : shift * 10.0;
    }
    double t = 1.0;
    if (!backtrack(oracle, penalty, x, d, dot(x.grad, d), t, evals, &hess)) break;
    ++it;
    progress.report({it, x.objective, x.optimality, 0.0, evals}, x.w);
  }
  return finish(x, it, evals, x.optimality <= o.tol);
}

}  // namespace tandem::models::detail
