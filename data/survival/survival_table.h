#pragma once
/// Right-censored survival data as a tandem::Dataset: one row per subject.
/// Batches hold "x" (float32 [B, p], features), "duration" (float32 [B], >= 0),
/// "event" (float32 [B], 1 = event observed, 0 = censored) and, for synthetic
/// data, "true_risk" (float32 [B], the log hazard ratio the data was drawn with).
///
/// A training split may carry a holdout: rows taken out of training (never
/// in its batches) on which the survival models choose their best epoch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "data/survival/encoding.h"
#include "framework/train/dataset.h"

namespace tandem::data {

class SurvivalTable : public Dataset {
 public:
  /// `true_risk` may be undefined. Throws std::invalid_argument on mismatched sizes.
  SurvivalTable(torch::Tensor x, torch::Tensor duration, torch::Tensor event, torch::Tensor true_risk = {},
                std::vector<std::string> feature_names = {});

  int64_t size() const override { return duration_.size(0); }
  Batch get(const std::vector<int64_t>& indices) const override;

  const torch::Tensor& x() const { return x_; }
  const torch::Tensor& duration() const { return duration_; }
  const torch::Tensor& event() const { return event_; }
  const torch::Tensor& true_risk() const { return true_risk_; }
  /// Names of the columns of x (after one-hot encoding), when known.
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  /// How file columns became x (set by survival_csv); by default numeric
  /// columns named by feature_names().
  const FeatureEncoding& encoding() const { return encoding_; }
  void set_encoding(FeatureEncoding encoding) { encoding_ = std::move(encoding); }

  /// Rows held out of training for choosing the best epoch; may be null.
  const std::shared_ptr<SurvivalTable>& holdout() const { return holdout_; }
  void set_holdout(std::shared_ptr<SurvivalTable> holdout) { holdout_ = std::move(holdout); }

 private:
  torch::Tensor x_, duration_, event_, true_risk_;
  std::vector<std::string> feature_names_;
  FeatureEncoding encoding_;
  std::shared_ptr<SurvivalTable> holdout_;
};

}  // namespace tandem::data
