#pragma once
/// The LossOracle over this worker's shard: rows x (float64 [n_local, d],
/// contiguous, already standardised) and labels y (float64 [n_local] of 0/1).
/// One evaluation is one pass over the shard in blocks of `block_rows` rows,
/// each block's margins, losses, gradient and Hessian terms computed while it
/// is in cache, into buffers allocated once; then one allreduce of
/// [loss, gradient, Hessian] packed together.
#include <torch/torch.h>

#include "framework/dist/communicator.h"
#include "models/logistic_regression/loss_oracle.h"

namespace tandem::models {

class ShardLoss : public LossOracle {
 public:
  /// `global_rows` is n over all ranks (the divisor of the mean).
  /// `hessian_sample` < 1 computes the Hessian from every k-th block only
  /// (k = round(1 / hessian_sample)), scaled up to the shard's row count: a
  /// sub-sampled Hessian (Byrd, Chin, Neveitt and Nocedal, SIAM J. Optim. 21(3),
  /// 2011). The value and gradient always use every row.
  ShardLoss(torch::Tensor x, torch::Tensor y, bool intercept, int64_t global_rows, dist::Communicator& comm,
            int64_t block_rows = 16384, double hessian_sample = 1.0);

  int64_t dim() const override { return d_ + (intercept_ ? 1 : 0); }
  bool has_intercept() const override { return intercept_; }
  int world() const override { return comm_.size(); }
  double mean(const double* w, double* grad, double* hess) override;
  double local(const double* w, double* grad, double* hess) override;
  void allreduce_sum(Vec& v) override;

  /// Margins z = x.beta (+ b) of every shard row, into `out` (float64 [n_local]).
  void margins(const double* w, torch::Tensor& out);

 private:
  /// The packed sums (loss, gradient, Hessian) divided by the global row count, into grad and hess where given.
  double unpack_means(double* grad, double* hess) const;
  /// Sums over the shard (not divided): loss, then gradient, then Hessian, into packed_.
  void sums(const double* w, bool grad, bool hess);

  torch::Tensor x_, y_;
  bool intercept_;
  int64_t d_, global_rows_, block_rows_, hessian_every_;
  dist::Communicator& comm_;
  // Preallocated: the coefficients, one block's vectors, the block-scaled rows, and the packed sums.
  torch::Tensor beta_, z_, e_, l1p_, r_, wt_, xw_, hess_block_, xw_sum_, packed_;
};

}  // namespace tandem::models
