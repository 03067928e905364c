#pragma once
/// Right-censored survival data as a tandem::Dataset: one row per subject.
/// Batches hold "x" (float32 [B, p], features), "duration" (float32 [B], >= 0),
/// "event" (float32 [B], 1 = event observed, 0 = censored) and, for synthetic
/// data, "true_risk" (float32 [B], the log hazard ratio the data was drawn with).
#include <torch/torch.h>

#include <string>
#include <vector>

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

 private:
  torch::Tensor x_, duration_, event_, true_risk_;
  std::vector<std::string> feature_names_;
};

}  // namespace tandem::data
