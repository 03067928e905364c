#pragma once
/// logistic_regression: binary logistic regression with an optional intercept
/// and an elastic-net penalty, registered as "logistic_regression". It trains
/// either with the ordinary minibatch Trainer (`solver: minibatch`, any
/// optim) or with a full-batch distributed solver (`solver: gd | lbfgs |
/// newton | admm | proximal`, see solvers.h). The objective, for n rows:
///
///   F(beta, b) = (1/n) sum_i [log(1 + exp(z_i)) - y_i z_i]
///                + lambda * (l1_ratio * |beta|_1 + (1 - l1_ratio) / 2 * |beta|_2^2),
///   z_i = x~_i . beta + b,  x~ = (x - mean) / scale  (identity without standardisation)
///
/// The intercept b is not penalised. The standardisation statistics come from
/// the data (Model::prepare) and are buffers, so checkpoints keep them.
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include "framework/recipe/schema.h"
#include "framework/train/full_batch.h"
#include "framework/train/model.h"
#include "models/logistic_regression/solvers.h"

namespace tandem::models {

struct LogisticOptions {
  int64_t features = 0;  ///< 0: taken from the data
  bool intercept = true;
  Penalty penalty;
  std::string solver = "minibatch";
  SolverOptions solver_options;
  int64_t block_rows = 16384;
  double hessian_sample = 1.0;  ///< see ShardLoss
};

class LogisticRegression : public Model, public FullBatchFitter {
 public:
  explicit LogisticRegression(const YAML::Node& resolved_model_section);
  explicit LogisticRegression(const LogisticOptions& options);

  static recipe::Section schema();

  /// Margins z [batch] (float64) for batch field "x" (float64 [batch, features]).
  torch::Tensor forward(const Batch& batch) override;
  /// Mean log-loss over the batch plus the penalty (a per-rank constant, so
  /// DDP's averaging keeps it as is).
  torch::Tensor loss(const Batch& batch, const torch::Tensor& z) override;
  /// "loss" (log-loss without the penalty) and "accuracy".
  MetricSums metrics(const Batch& batch, const torch::Tensor& z) override;
  /// One row per sample, [margin, label], for the exact ROC AUC over the whole set.
  torch::Tensor metric_rows(const Batch& batch, const torch::Tensor& z) override;
  /// "auc" (NaN when the set holds one class only).
  std::map<std::string, double> whole_set_metrics(const torch::Tensor& rows) override;

  /// Input width and standardisation from the training rows.
  void prepare(const Dataset& train) override;
  bool fits_full_batch() const override { return options_.solver != "minibatch"; }
  /// On the CPU whatever device the model was moved to: the solvers work through host pointers (fit.cpp).
  TrainResult fit_full_batch(const FullBatchSetup& setup) override;

  /// Coefficients on the standardised scale, then the intercept (when there is one).
  std::vector<double> coefficients() const;
  void set_coefficients(const std::vector<double>& w);
  /// The same model on the features' original scale: beta / scale, then the
  /// intercept b - sum(beta * mean / scale) (always present: standardising
  /// without an intercept still shifts the margins).
  std::vector<double> original_scale_coefficients() const;

  const LogisticOptions& options() const { return options_; }
  /// Input width: model.features, or the data's once prepared (or loaded from a checkpoint).
  int64_t features() const { return weight_.size(0); }
  const torch::Tensor& feature_mean() const { return mean_; }
  const torch::Tensor& feature_scale() const { return scale_; }

 private:
  void resize(int64_t features);

  LogisticOptions options_;
  torch::Tensor weight_, bias_, mean_, scale_;
};

}  // namespace tandem::models
