#include "models/logistic_regression/solver_impl.h"

namespace tandem::models::detail {

bool backtrack(LossOracle& oracle, const Penalty& penalty, Point& x, const Vec& d, double gd, double& t,
               int64_t& evaluations, Vec* hess) {
  constexpr double kArmijo = 1e-4;
  const double rounding = 1e-13 * std::abs(x.objective);
  for (; t >= 1e-20; t *= 0.5) {
    Vec w = x.w;
    axpy(t, d, w);
    Point y = evaluate(oracle, penalty, std::move(w), hess);
    ++evaluations;
    const bool armijo = y.objective <= x.objective + kArmijo * t * gd;
    const bool flat = y.objective <= x.objective + rounding && y.optimality < x.optimality;
    if (armijo || flat) {
      x = std::move(y);
      return true;
    }
  }
  return false;
}

SolverResult finish(const Point& x, int64_t iterations, int64_t evaluations, bool converged) {
  SolverResult r;
  r.w = x.w;
  r.iterations = iterations;
  r.evaluations = evaluations;
  r.converged = converged;
  r.objective = x.objective;
  r.optimality = x.optimality;
  return r;
}

}  // namespace tandem::models::detail
