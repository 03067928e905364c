// Gradient descent with a backtracking line search; the step starts each
// iteration at twice the last accepted one, so it adapts to the curvature.
#include "models/logistic_regression/solver_impl.h"

namespace tandem::models::detail {

SolverResult gradient_descent(LossOracle& oracle, const Penalty& penalty, const SolverOptions& o, Vec w0,
                              Progress& progress) {
  Point x = evaluate(oracle, penalty, std::move(w0));
  int64_t evals = 1, it = 0;
  double t = 1.0;
  while (x.optimality > o.tol && it < o.max_iter) {
    Vec d = x.grad;
    for (auto& v : d) v = -v;
    if (!backtrack(oracle, penalty, x, d, -dot(x.grad, x.grad), t, evals)) break;
    t *= 2.0;
    ++it;
    progress.report({it, x.objective, x.optimality, 0.0, evals}, x.w);
  }
  return finish(x, it, evals, x.optimality <= o.tol);
}

}  // namespace tandem::models::detail
