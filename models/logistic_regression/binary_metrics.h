#pragma once
/// Metrics of a binary classifier from its margins (logits) z and 0/1 labels:
/// mean log-loss, accuracy at probability 0.5 (z > 0 predicts 1), and the area
/// under the ROC curve (the Mann-Whitney statistic, ties counting one half).
#include <cstdint>
#include <vector>

namespace tandem::models {

struct BinaryMetrics {
  double log_loss = 0.0;
  double accuracy = 0.0;
  double auc = 0.0;  ///< NaN when only one class is present
  int64_t rows = 0;
};

/// Log-loss sum and correct count over (z, y); accumulate across ranks, then divide.
struct BinarySums {
  double log_loss = 0.0, correct = 0.0, rows = 0.0;
};
BinarySums binary_sums(const double* z, const double* y, int64_t n);

/// Exact ROC AUC: scores sorted once, average ranks for ties.
double roc_auc(const std::vector<double>& scores, const std::vector<double>& labels);

}  // namespace tandem::models
