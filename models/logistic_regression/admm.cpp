// Consensus ADMM (Boyd et al., "Distributed Optimization and Statistical
// Learning via the Alternating Direction Method of Multipliers", 2011,
// sections 7.1 and 8.2). With N ranks and f_k the log-loss over rank k's rows
// divided by the global row count (so F = sum_k f_k + g), in scaled form:
//
//   w_k <- argmin_w f_k(w) + rho/2 |w - z + u_k|^2     (local Newton, no communication)
//   z   <- prox_{g/(N rho)}(mean_k(w_k + u_k))           (one allreduce)
//   u_k <- u_k + w_k - z
//
// with g the penalty (soft-thresholding for L1, shrinkage for L2, the
// intercept left alone). The primal and dual residuals r = |(w_k - z)_k| and
// s = rho sqrt(N) |z - z_old| (r lagging by one iteration, to share the
// allreduce) are reported and balance rho (doubled when r >
// 10 s, halved when s > 10 r); the stopping test is the same as every
// solver's, the optimality of F at z, from one more pass per iteration.
#include "models/logistic_regression/solver_impl.h"

namespace tandem::models::detail {
namespace {

/// f_k, its gradient and Hessian at the current local iterate: the last
/// accepted point of the previous local solve, so the next solve starts
/// without a pass (only the rho term, known in closed form, changes).
struct LocalPoint {
  bool valid = false;
  double f = 0.0;
  Vec g, h;
};

/// argmin_w f_k(w) + rho/2 |w - v|^2 by Newton with backtracking, from w,
/// until the local gradient's sup norm is <= `tol`.
void local_solve(LossOracle& oracle, const Vec& v, double rho, double tol, const SolverOptions& o, Vec& w,
                 LocalPoint& at_w) {
  const int64_t p = oracle.dim();
  auto data_term = [&](const Vec& x, LocalPoint& out) {
    out.g.assign(p, 0.0);
    out.h.assign(p * p, 0.0);
    out.f = oracle.local(x.data(), out.g.data(), out.h.data());
    out.valid = true;
  };
  // phi = f_k + rho/2 |x - v|^2, from f_k's values at x.
  auto phi = [&](const Vec& x, const LocalPoint& fk, Vec& g, Vec& h) {
    g = fk.g;
    h = fk.h;
    double f = fk.f;
    for (int64_t j = 0; j < p; ++j) {
      const double dj = x[j] - v[j];
      f += 0.5 * rho * dj * dj;
      g[j] += rho * dj;
      h[j * p + j] += rho;
    }
    return f;
  };
  if (!at_w.valid) data_term(w, at_w);
  Vec g, h, d;
  double f = phi(w, at_w, g, h);
  for (int64_t inner = 0; inner < o.admm_inner_iter; ++inner) {
    double gmax = 0;
    for (double gj : g) gmax = std::max(gmax, std::abs(gj));
    if (gmax <= tol) break;
    Vec rhs = g;
    for (auto& r : rhs) r = -r;
    if (!cholesky_solve(h, rhs, p, d)) break;  // rho I keeps h positive definite
    const double gd = dot(g, d);
    bool accepted = false;
    for (double t = 1.0; t >= 1e-12; t *= 0.5) {
      Vec x = w;
      axpy(t, d, x);
      LocalPoint fx;
      data_term(x, fx);
      Vec gx, hx;
      const double phx = phi(x, fx, gx, hx);
      if (phx <= f + 1e-4 * t * gd + 1e-13 * std::abs(f)) {
        w = std::move(x), g = std::move(gx), h = std::move(hx), f = phx, at_w = std::move(fx);
        accepted = true;
        break;
      }
    }
    if (!accepted) break;
  }
}

}  // namespace

SolverResult admm(LossOracle& oracle, const Penalty& penalty, const SolverOptions& o, Vec w0, Progress& progress) {
  const int64_t p = oracle.dim();
  const bool intercept = oracle.has_intercept();
  const int64_t k = intercept ? p - 1 : p;
  const double n_ranks = oracle.world();

  Vec hess;
  Point zp = evaluate(oracle, penalty, w0, &hess);
  int64_t evals = 1, it = 0;
  double rho = o.admm_rho;
  if (rho <= 0) {  // the mean curvature of f_k: trace(H) / (p N)
    double trace = 0;
    for (int64_t j = 0; j < p; ++j) trace += hess[j * p + j];
    rho = std::max(trace / static_cast<double>(p) / n_ranks, 1e-8);
  }
  Vec z = w0, w = w0, u(p, 0.0);
  double last_primal_sq = 0.0;
  LocalPoint at_w;
  while (zp.optimality > o.tol && it < o.max_iter) {
    Vec v = z;
    axpy(-1.0, u, v);
    // Inexact local solves: loose while z is far from optimal, tight at the end.
    local_solve(oracle, v, rho, std::max(0.1 * o.tol, 0.01 * zp.optimality), o, w, at_w);

    // One allreduce: sum_k (w_k + u_k), and the primal residual's square
    // |w_k - z|^2 of the previous iteration (computed locally once z was known;
    // forming it from sums instead would cancel catastrophically near the end).
    Vec buf(p + 1);
    for (int64_t j = 0; j < p; ++j) buf[j] = w[j] + u[j];
    buf[p] = last_primal_sq;
    oracle.allreduce_sum(buf);
    const double primal = std::sqrt(buf[p]);

    const Vec z_old = z;
    const double shrink = 1.0 + penalty.l2() / (n_ranks * rho);
    const double threshold = penalty.l1() / (n_ranks * rho);
    for (int64_t j = 0; j < p; ++j) {
      const double mean = buf[j] / n_ranks;
      z[j] = j < k ? soft(mean, threshold) / shrink : mean;
    }
    last_primal_sq = 0;
    double dz = 0;
    for (int64_t j = 0; j < p; ++j) {
      u[j] += w[j] - z[j];
      last_primal_sq += (w[j] - z[j]) * (w[j] - z[j]);
      dz += (z[j] - z_old[j]) * (z[j] - z_old[j]);
    }
    const double dual = rho * std::sqrt(n_ranks * dz);

    zp = evaluate(oracle, penalty, z);
    ++evals;
    ++it;
    // Residual balancing (Boyd et al. 3.4.1): keep r and s within a factor 10
    // of each other by doubling or halving rho; u is scaled to stay rho-scaled.
    if (it > 1 && primal > 10.0 * dual) {
      rho *= 2.0;
      for (auto& v : u) v *= 0.5;
    } else if (it > 1 && dual > 10.0 * primal) {
      rho = std::max(rho * 0.5, 1e-12);
      for (auto& v : u) v *= 2.0;
    }
    IterationRecord rec{it, zp.objective, zp.optimality, 0.0, evals};
    rec.primal_residual = primal;
    rec.dual_residual = dual;
    progress.report(rec, zp.w);
  }
  return finish(zp, it, evals, zp.optimality <= o.tol);
}

}  // namespace tandem::models::detail
