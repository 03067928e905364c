#pragma once
/// Full-batch solvers for penalised logistic regression over a LossOracle:
///
///   F(w) = L(w) + lambda * (alpha * |beta|_1 + (1 - alpha) / 2 * |beta|_2^2)
///
/// with L the mean log-loss over all rows of all ranks and beta the
/// coefficients without the intercept (which is never penalised). docs/logistic.md
/// gives the mathematics of each solver as implemented.
///
/// Every rank runs the same solver on the same (allreduced) numbers, so every
/// rank takes the same steps and ends with the same w.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "models/logistic_regression/loss_oracle.h"

namespace tandem::models {

struct Penalty {
  double lambda = 0.0;  ///< overall strength, >= 0
  double alpha = 0.0;   ///< L1 share in [0, 1]: 0 is ridge, 1 is lasso

  double l1() const { return lambda * alpha; }
  double l2() const { return lambda * (1.0 - alpha); }
};

enum class SolverKind { kGradientDescent, kLbfgs, kNewton, kAdmm, kProximal };

/// "gd", "lbfgs", "newton", "admm", "proximal".
SolverKind solver_kind(const std::string& name);
std::string solver_name(SolverKind kind);
/// Whether the solver handles an L1 term (admm, proximal); the others need alpha = 0.
bool solver_handles_l1(SolverKind kind);

struct SolverOptions {
  SolverKind kind = SolverKind::kLbfgs;
  int64_t max_iter = 500;
  /// Stop when the optimality measure (the sup norm of the minimum-norm
  /// subgradient of F; the gradient when there is no L1 term) is <= tol.
  double tol = 1e-8;
  int64_t lbfgs_memory = 10;
  /// ADMM penalty parameter; 0 picks the mean diagonal of the Hessian of L at the start.
  double admm_rho = 0.0;
  int64_t admm_inner_iter = 1;  ///< at most this many Newton steps per local solve (inexact ADMM)
};

struct IterationRecord {
  int64_t iteration = 0;    ///< 1-based
  double objective = 0.0;   ///< F at the current iterate
  double optimality = 0.0;  ///< see SolverOptions::tol
  double seconds = 0.0;     ///< wall time of this iteration (the callback excluded)
  int64_t evaluations = 0;  ///< passes over the data so far (each with an allreduce)
  double primal_residual = 0.0, dual_residual = 0.0;  ///< ADMM only
};

/// Called after every iteration with the iterate; its time is not counted.
using IterationCallback = std::function<void(const IterationRecord&, const Vec& w)>;

struct SolverResult {
  Vec w;
  int64_t iterations = 0;
  int64_t evaluations = 0;
  bool converged = false;
  double objective = 0.0;
  double optimality = 0.0;
  double seconds = 0.0;
};

/// Minimises F from `w0` (zeros when empty).
SolverResult solve(LossOracle& oracle, const Penalty& penalty, const SolverOptions& options, Vec w0 = {},
                   const IterationCallback& callback = {});

/// F's smooth part: L plus the L2 term, with its gradient and Hessian (added
/// to what `oracle.mean` returns). Exposed for tests and the bench.
double smooth_objective(LossOracle& oracle, const Penalty& penalty, const Vec& w, Vec* grad, Vec* hess);
/// lambda * alpha * |beta|_1.
double l1_term(const Penalty& penalty, const Vec& w, bool intercept);
/// The optimality measure at w for the smooth part's gradient `g`.
double optimality(const Penalty& penalty, const Vec& w, const Vec& g, bool intercept);

}  // namespace tandem::models
