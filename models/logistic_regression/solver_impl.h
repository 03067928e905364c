#pragma once
// Internal to the solvers: small dense vector helpers, the iteration clock,
// and one entry point per solver (each in its own file).
#include <chrono>
#include <cmath>

#include "models/logistic_regression/solvers.h"

namespace tandem::models::detail {

inline double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
inline double norm2(const Vec& a) { return std::sqrt(dot(a, a)); }
/// y += a * x
inline void axpy(double a, const Vec& x, Vec& y) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += a * x[i];
}
/// Soft-thresholding: sign(v) * max(|v| - t, 0).
inline double soft(double v, double t) { return v > t ? v - t : (v < -t ? v + t : 0.0); }

/// Solves A x = b for symmetric positive definite A (n x n, row-major) by
/// Cholesky; returns false when A is not positive definite.
bool cholesky_solve(Vec a, Vec b, int64_t n, Vec& x);

/// Times iterations and reports them; one per solve.
class Progress {
 public:
  Progress(const IterationCallback& callback) : callback_(callback), start_(clock::now()), last_(start_) {}
  /// Records iteration `record.iteration` (its seconds are filled in here).
  void report(IterationRecord record, const Vec& w);
  double total_seconds() const { return total_; }

 private:
  using clock = std::chrono::steady_clock;
  const IterationCallback& callback_;
  clock::time_point start_, last_;
  double total_ = 0.0;
};

/// F, its smooth gradient and the optimality measure at w, in one pass.
struct Point {
  Vec w, grad;  ///< grad: of the smooth part (L + L2)
  double smooth = 0.0, objective = 0.0, optimality = 0.0;
};
Point evaluate(LossOracle& oracle, const Penalty& penalty, Vec w, Vec* hess = nullptr);

/// Backtracking line search along `d` (gd = grad . d < 0) from step `t`,
/// halving until Armijo's condition F(w + t d) <= F(w) + 1e-4 t gd holds. Near
/// the optimum F's decrease falls below rounding, so a step that does not raise
/// F by more than rounding and lowers the optimality measure is accepted too.
/// Returns false (x unchanged) when t falls below 1e-20. `hess`, when given,
/// receives the smooth Hessian at the accepted point (same pass).
bool backtrack(LossOracle& oracle, const Penalty& penalty, Point& x, const Vec& d, double gd, double& t,
               int64_t& evaluations, Vec* hess = nullptr);

/// The result for the final point.
SolverResult finish(const Point& x, int64_t iterations, int64_t evaluations, bool converged);

SolverResult gradient_descent(LossOracle&, const Penalty&, const SolverOptions&, Vec w0, Progress&);
SolverResult lbfgs(LossOracle&, const Penalty&, const SolverOptions&, Vec w0, Progress&);
SolverResult newton(LossOracle&, const Penalty&, const SolverOptions&, Vec w0, Progress&);
SolverResult admm(LossOracle&, const Penalty&, const SolverOptions&, Vec w0, Progress&);
SolverResult proximal_gradient(LossOracle&, const Penalty&, const SolverOptions&, Vec w0, Progress&);

}  // namespace tandem::models::detail
