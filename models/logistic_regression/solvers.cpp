#include "models/logistic_regression/solvers.h"

#include <fmt/format.h>

#include "framework/core/error.h"
#include "models/logistic_regression/solver_impl.h"

namespace tandem::models {
namespace {
const std::vector<std::pair<std::string, SolverKind>> kSolvers = {{"gd", SolverKind::kGradientDescent},
                                                                  {"lbfgs", SolverKind::kLbfgs},
                                                                  {"newton", SolverKind::kNewton},
                                                                  {"admm", SolverKind::kAdmm},
                                                                  {"proximal", SolverKind::kProximal}};
}  // namespace

SolverKind solver_kind(const std::string& name) {
  for (const auto& [n, k] : kSolvers)
    if (n == name) return k;
  throw BadInput(fmt::format("expected a solver among gd, lbfgs, newton, admm, proximal, got '{}'", name));
}

std::string solver_name(SolverKind kind) {
  for (const auto& [n, k] : kSolvers)
    if (k == kind) return n;
  return "?";
}

bool solver_handles_l1(SolverKind kind) { return kind == SolverKind::kAdmm || kind == SolverKind::kProximal; }

double smooth_objective(LossOracle& oracle, const Penalty& penalty, const Vec& w, Vec* grad, Vec* hess) {
  const auto p = static_cast<size_t>(oracle.dim());
  const size_t k = oracle.has_intercept() ? p - 1 : p;  // penalised coordinates
  if (grad) grad->assign(p, 0.0);
  if (hess) hess->assign(p * p, 0.0);
  double f = oracle.mean(w.data(), grad ? grad->data() : nullptr, hess ? hess->data() : nullptr);
  const double l2 = penalty.l2();
  if (l2 > 0) {
    double sq = 0;
    for (size_t j = 0; j < k; ++j) {
      sq += w[j] * w[j];
      if (grad) (*grad)[j] += l2 * w[j];
      if (hess) (*hess)[j * p + j] += l2;
    }
    f += 0.5 * l2 * sq;
  }
  return f;
}

double l1_term(const Penalty& penalty, const Vec& w, bool intercept) {
  const double l1 = penalty.l1();
  if (l1 == 0) return 0.0;
  const size_t k = intercept ? w.size() - 1 : w.size();
  double s = 0;
  for (size_t j = 0; j < k; ++j) s += std::abs(w[j]);
  return l1 * s;
}

double optimality(const Penalty& penalty, const Vec& w, const Vec& g, bool intercept) {
  const double l1 = penalty.l1();
  const size_t k = intercept ? w.size() - 1 : w.size();
  double m = 0;
  for (size_t j = 0; j < w.size(); ++j) {
    double v = g[j];
    if (j < k && l1 > 0) {
      if (w[j] > 0) v += l1;
      else if (w[j] < 0) v -= l1;
      else v = std::max(std::abs(v) - l1, 0.0);
    }
    m = std::max(m, std::abs(v));
  }
  return m;
}

namespace detail {

bool cholesky_solve(Vec a, Vec b, int64_t n, Vec& x) {
  // In place: the lower triangle of `a` becomes L with A = L L^T.
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int64_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (int64_t i = 0; i < n; ++i) {  // L y = b
    for (int64_t k = 0; k < i; ++k) b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {  // L^T x = y
    for (int64_t k = i + 1; k < n; ++k) b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  x = std::move(b);
  return true;
}

void Progress::report(IterationRecord record, const Vec& w) {
  const auto now = clock::now();
  record.seconds = std::chrono::duration<double>(now - last_).count();
  total_ += record.seconds;
  if (callback_) callback_(record, w);
  last_ = clock::now();  // the callback's own time is not the solver's
}

Point evaluate(LossOracle& oracle, const Penalty& penalty, Vec w, Vec* hess) {
  Point pt;
  pt.smooth = smooth_objective(oracle, penalty, w, &pt.grad, hess);
  pt.objective = pt.smooth + l1_term(penalty, w, oracle.has_intercept());
  pt.optimality = optimality(penalty, w, pt.grad, oracle.has_intercept());
  pt.w = std::move(w);
  return pt;
}

}  // namespace detail

SolverResult solve(LossOracle& oracle, const Penalty& penalty, const SolverOptions& options, Vec w0,
                   const IterationCallback& callback) {
  if (w0.empty()) w0.assign(static_cast<size_t>(oracle.dim()), 0.0);
  if (static_cast<int64_t>(w0.size()) != oracle.dim()) {
    throw std::invalid_argument(fmt::format("solve: expected a start of {} numbers, got {}", oracle.dim(), w0.size()));
  }
  if (penalty.l1() > 0 && !solver_handles_l1(options.kind)) {
    throw BadInput(fmt::format("model.solver: {} needs a smooth objective, got an L1 term (model.l1_ratio > 0); use "
                               "proximal or admm",
                               solver_name(options.kind)));
  }
  detail::Progress progress(callback);
  SolverResult r;
  switch (options.kind) {
    case SolverKind::kGradientDescent: r = detail::gradient_descent(oracle, penalty, options, std::move(w0), progress); break;
    case SolverKind::kLbfgs: r = detail::lbfgs(oracle, penalty, options, std::move(w0), progress); break;
    case SolverKind::kNewton: r = detail::newton(oracle, penalty, options, std::move(w0), progress); break;
    case SolverKind::kAdmm: r = detail::admm(oracle, penalty, options, std::move(w0), progress); break;
    case SolverKind::kProximal: r = detail::proximal_gradient(oracle, penalty, options, std::move(w0), progress); break;
  }
  r.seconds = progress.total_seconds();
  return r;
}

}  // namespace tandem::models
