#pragma once
/// logistic_hazard: a discrete-time survival model (the logistic-hazard
/// parametrisation of Gensheimer and Narasimhan 2019; pycox's LogisticHazard).
///
/// Time is cut at 0 = tau_0 < tau_1 < ... < tau_m (equidistant up to the
/// longest training duration, or at quantiles of the training Kaplan–Meier
/// curve). The network gives one logit phi_j per interval (tau_{j-1}, tau_j];
/// the hazard h_j = sigmoid(phi_j) is the probability of the event in interval
/// j given survival to its start, and S(tau_j | x) = prod_{k <= j} (1 - h_k).
///
/// A subject with an event at t in (tau_{j-1}, tau_j] survived intervals
/// 1..j-1 and failed in j; a censored one survived the intervals that ended by
/// t (the censoring is moved back to the last cut <= t, as pycox does).
/// Events after tau_m count as censored at tau_m. The loss is the negative
/// log-likelihood of that sequence of Bernoulli outcomes, summed over
/// intervals and averaged over the batch's subjects.
#include "models/survival/survival_net.h"

namespace tandem::models {

struct LogisticHazardOptions {
  SurvivalNetOptions net;
  int64_t intervals = 20;
  std::string cuts = "equidistant";  ///< or "quantiles"
};

/// The cut points tau_0..tau_m for m = `intervals` (fewer if quantile cuts coincide).
std::vector<double> make_cuts(const std::vector<double>& durations, const std::vector<bool>& events, int64_t intervals,
                              const std::string& scheme);

/// Negative log-likelihood of the logistic hazard, per subject [B], for logits
/// phi [B, m] on `cuts` [m + 1].
torch::Tensor logistic_hazard_nll(const torch::Tensor& phi, const torch::Tensor& cuts, const torch::Tensor& duration,
                                  const torch::Tensor& event);

class LogisticHazard : public SurvivalNet {
 public:
  explicit LogisticHazard(const YAML::Node& resolved_model_section);
  explicit LogisticHazard(const LogisticHazardOptions& options);
  static recipe::Section schema();

  torch::Tensor loss(const Batch& batch, const torch::Tensor& phi) override;
  /// S on the grid tau_0..tau_m: [B, m + 1], with S(tau_0) = 1.
  torch::Tensor survival(const torch::Tensor& phi) override;
  /// Minus the area under the (linearly interpolated) survival curve up to
  /// tau_m: minus the restricted mean survival time.
  torch::Tensor risk(const torch::Tensor& phi) override;
  /// Linear between cuts: the event density is taken as constant within an
  /// interval (pycox's "interpolate"), so subjects failing in the same
  /// interval are still told apart.
  bool interpolates() const override { return true; }

 protected:
  void prepare_grid(const torch::Tensor& duration, const torch::Tensor& event) override;

 private:
  LogisticHazardOptions options_;
};

}  // namespace tandem::models
