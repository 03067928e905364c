// Accelerated proximal gradient (FISTA: Beck and Teboulle, SIAM J. Imaging
// Sciences 2(1), 2009) for F = smooth + lambda*alpha*|beta|_1, with the
// backtracking step rule of that paper and a monotone restart (O'Donoghue and
// Candes, 2015): when a step would raise F, the momentum is dropped and the
// step is retaken from the current point. The proximal map of the L1 term is
// soft-thresholding, so coefficients are exactly zero where the L1 term wins.
#include "models/logistic_regression/solver_impl.h"

namespace tandem::models::detail {
namespace {

/// prox of t * l1 * |beta|_1 at u (the intercept, last, is not penalised).
Vec prox(Vec u, double threshold, bool intercept) {
  const size_t k = intercept ? u.size() - 1 : u.size();
  for (size_t j = 0; j < k; ++j) u[j] = soft(u[j], threshold);
  return u;
}

}  // namespace

SolverResult proximal_gradient(LossOracle& oracle, const Penalty& penalty, const SolverOptions& o, Vec w0,
                               Progress& progress) {
  const bool intercept = oracle.has_intercept();
  Point x = evaluate(oracle, penalty, std::move(w0));
  Point v = x;  // the extrapolated point the step is taken from
  int64_t evals = 1, it = 0;
  double t = 1.0, theta = 1.0;
  while (x.optimality > o.tol && it < o.max_iter) {
    Point y;
    bool found = false;
    for (; t >= 1e-20; t *= 0.5) {
      Vec w = v.w;
      axpy(-t, v.grad, w);
      y = evaluate(oracle, penalty, prox(std::move(w), t * penalty.l1(), intercept));
      ++evals;
      Vec diff = y.w;
      axpy(-1.0, v.w, diff);
      const double model = v.smooth + dot(v.grad, diff) + dot(diff, diff) / (2.0 * t);
      if (y.smooth <= model + 1e-13 * std::abs(v.smooth)) {
        found = true;
        break;
      }
    }
    if (!found) break;
    ++it;
    if (y.objective > x.objective && theta > 1.0) {
      theta = 1.0;  // restart: the next step is a plain proximal step from x
      v = x;
    } else {
      const double next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * theta * theta));
      const double beta = (theta - 1.0) / next;
      theta = next;
      if (beta > 0) {
        Vec w = y.w;
        Vec step = y.w;
        axpy(-1.0, x.w, step);
        axpy(beta, step, w);
        v = evaluate(oracle, penalty, std::move(w));
        ++evals;
      } else {
        v = y;
      }
      x = std::move(y);
    }
    progress.report({it, x.objective, x.optimality, 0.0, evals}, x.w);
  }
  return finish(x, it, evals, x.optimality <= o.tol);
}

}  // namespace tandem::models::detail
