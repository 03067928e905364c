#pragma once
/// deepsurv: a proportional-hazards model whose log hazard ratio eta(x) is a
/// neural network (Katzman et al. 2018; pycox's CoxPH).
///
/// Loss: the negative Cox partial log-likelihood with Breslow's handling of
/// ties, over the subjects of the batch,
///   L = -1/B sum_{i: d_i = 1} [ eta_i - log sum_{j in batch: T_j >= T_i} exp(eta_j) ].
/// It is divided by the batch size B (pycox divides by the number of events),
/// so the loss is a mean over the batch's samples as the Trainer expects.
///
/// Under DDP each rank's risk sets are drawn from its own batch only: with N
/// ranks the step is the gradient of the mean of the N per-rank losses, not of
/// one partial likelihood over the global batch of N*B subjects. (Risk sets
/// are a sample of the full ones either way; minibatch Cox training already
/// works with batch-local risk sets.) tests/survival/survival_ddp_test.cpp
/// checks exactly this.
///
/// Survival: after the optimizer steps (refresh()) the Breslow estimate of the
/// cumulative baseline hazard over the whole training split,
///   H0(t) = sum_{t_k <= t} d_k / sum_{j: T_j >= t_k} exp(eta_j),
/// is stored on a grid of training event times, and S(t | x) = exp(-H0(t) exp(eta(x))).
#include "models/survival/survival_net.h"

namespace tandem::models {

struct DeepSurvOptions {
  SurvivalNetOptions net;
  int64_t curve_points = 256;  ///< most grid points of the baseline hazard (besides 0)
};

/// Negative Cox partial log-likelihood (Breslow ties) of log-risks eta [B],
/// summed over events and divided by B.
torch::Tensor cox_partial_nll(const torch::Tensor& eta, const torch::Tensor& duration, const torch::Tensor& event);

class DeepSurv : public SurvivalNet {
 public:
  explicit DeepSurv(const YAML::Node& resolved_model_section);
  explicit DeepSurv(const DeepSurvOptions& options);
  static recipe::Section schema();

  torch::Tensor loss(const Batch& batch, const torch::Tensor& eta) override;
  torch::Tensor survival(const torch::Tensor& eta) override;
  torch::Tensor risk(const torch::Tensor& eta) override;
  /// Steps: the Breslow estimate only changes at event times.
  bool interpolates() const override { return false; }
  /// Recomputes the Breslow baseline hazard on the whole training split.
  void refresh(const Dataset& train) override;

 protected:
  void prepare_grid(const torch::Tensor& duration, const torch::Tensor& event) override;

 private:
  DeepSurvOptions options_;
  torch::Tensor cum_baseline_;  ///< H0 on the grid, scaled by exp(shift)
  torch::Tensor shift_;         ///< the log-risk subtracted before exponentiating (overflow guard)
};

}  // namespace tandem::models
