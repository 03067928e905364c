// Limited-memory BFGS (Nocedal and Wright, Numerical Optimization, 2nd ed.,
// algorithms 7.4 and 7.5): the two-loop recursion with the initial scaling
// s.y / y.y, a backtracking Armijo line search from the unit step, and pairs
// kept only when s.y > 0 so the implied inverse Hessian stays positive definite.
#include <deque>

#include "models/logistic_regression/solver_impl.h"

namespace tandem::models::detail {

SolverResult lbfgs(LossOracle& oracle, const Penalty& penalty, const SolverOptions& o, Vec w0, Progress& progress) {
  Point x = evaluate(oracle, penalty, std::move(w0));
  int64_t evals = 1, it = 0;
  std::deque<Vec> S, Y;
  std::deque<double> rho;
  while (x.optimality > o.tol && it < o.max_iter) {
    // d = -H g by the two-loop recursion.
    Vec q = x.grad;
    const size_t m = S.size();
    std::vector<double> a(m);
    for (size_t i = m; i-- > 0;) {
      a[i] = rho[i] * dot(S[i], q);
      axpy(-a[i], Y[i], q);
    }
    double gamma = 1.0;
    if (m > 0) {
      gamma = dot(S.back(), Y.back()) / dot(Y.back(), Y.back());
    } else {
      const double gn = norm2(x.grad);  // first step: at most unit length
      gamma = gn > 1.0 ? 1.0 / gn : 1.0;
    }
    for (auto& v : q) v *= gamma;
    for (size_t i = 0; i < m; ++i) {
      const double b = rho[i] * dot(Y[i], q);
      axpy(a[i] - b, S[i], q);
    }
    Vec d = std::move(q);
    for (auto& v : d) v = -v;
    double gd = dot(x.grad, d);
    if (!(gd < 0)) {  // not a descent direction: forget the memory
      S.clear(), Y.clear(), rho.clear();
      d = x.grad;
      for (auto& v : d) v = -v;
      gd = -dot(x.grad, x.grad);
    }
    const Point before = x;
    double t = 1.0;
    if (!backtrack(oracle, penalty, x, d, gd, t, evals)) break;
    Vec s = x.w, y = x.grad;
    axpy(-1.0, before.w, s);
    axpy(-1.0, before.grad, y);
    const double sy = dot(s, y);
    if (sy > 1e-16 * norm2(s) * norm2(y) && sy > 0) {
      if (static_cast<int64_t>(S.size()) == o.lbfgs_memory) S.pop_front(), Y.pop_front(), rho.pop_front();
      S.push_back(std::move(s));
      Y.push_back(std::move(y));
      rho.push_back(1.0 / sy);
    }
    ++it;
    progress.report({it, x.objective, x.optimality, 0.0, evals}, x.w);
  }
  return finish(x, it, evals, x.optimality <= o.tol);
}

}  // namespace tandem::models::detail
