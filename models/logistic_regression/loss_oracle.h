#pragma once
/// What the full-batch solvers know of the data: the logistic log-loss over
/// every rank's rows, as a function of the parameter vector w (the feature
/// coefficients, then the intercept when there is one). Each worker holds its
/// own shard; `mean` makes one pass over it and one allreduce. The solvers
/// work on small std::vector<double>s of size dim(), so they need no LibTorch.
#include <cstdint>
#include <vector>

namespace tandem::models {

using Vec = std::vector<double>;

class LossOracle {
 public:
  virtual ~LossOracle() = default;
  /// Parameters: features, plus 1 when the model has an intercept (last).
  virtual int64_t dim() const = 0;
  virtual bool has_intercept() const = 0;
  /// Ranks taking part (ADMM's consensus needs the count).
  virtual int world() const = 0;

  /// L(w) = (1/n) sum_i [log(1 + exp(z_i)) - y_i z_i], z_i = x_i.beta (+ b), over
  /// all n rows of all ranks. Fills the gradient (dim) and the Hessian (dim x
  /// dim, row-major) when they are not null. Every rank must call it together.
  virtual double mean(const double* w, double* grad, double* hess) = 0;

  /// The same sums over this rank's rows only, still divided by the global n,
  /// so the ranks' values add up to mean(). No communication.
  virtual double local(const double* w, double* grad, double* hess) = 0;

  /// Sums `v` over the ranks, in place.
  virtual void allreduce_sum(Vec& v) = 0;
};

}  // namespace tandem::models
