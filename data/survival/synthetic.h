#pragma once
/// The `survival_synthetic` dataset: subjects with known hazards, for tests
/// and for checking that a model recovers the true ranking.
///
/// x ~ N(0, I_p). The log hazard ratio eta(x) is
///   linear:    x0 - 0.8 x1 + 0.6 x2 - 0.4 x3 + 0.2 x4   (further features have no effect)
///   nonlinear: x0 - 0.8 x1 + 0.7 (x2^2 - 1) + 0.6 x3 x4
/// Event times follow a Weibull proportional-hazards model,
///   h(t | x) = (k / s) (t / s)^(k-1) exp(eta(x)),  S(t | x) = exp(-(t / s)^k exp(eta(x))),
/// drawn by inversion: T = s (-log U / exp(eta))^(1/k). Censoring is independent
/// of x: C ~ Exponential(mean censor_mean); the data hold min(T, C) and
/// 1(T <= C). Everything is drawn from one generator seeded by `seed`; the
/// first n_train subjects are the training split, the next n_val validation.
#include <yaml-cpp/yaml.h>

#include "data/survival/survival_table.h"
#include "framework/recipe/schema.h"

namespace tandem::data {

struct SyntheticSurvivalOptions {
  int64_t n_train = 2000;
  int64_t n_val = 1000;
  int64_t features = 5;
  bool nonlinear = false;
  double shape = 1.5;         ///< Weibull k
  double scale = 10.0;        ///< Weibull s (time units)
  double censor_mean = 15.0;  ///< mean of the exponential censoring time; 0 = no censoring
  uint64_t seed = 0;
};

/// The true log hazard ratio eta(x) of each row of x [n, p].
torch::Tensor synthetic_log_hazard(const torch::Tensor& x, bool nonlinear);

/// The two splits; both carry "true_risk" = eta(x).
DataSplits make_synthetic_survival(const SyntheticSurvivalOptions& options);

struct SyntheticSurvivalDataset {
  static recipe::Section schema();
  static DataSplits load(const YAML::Node& section);
  /// The options of a validated section.
  static SyntheticSurvivalOptions options_from(const YAML::Node& section);
};

}  // namespace tandem::data
