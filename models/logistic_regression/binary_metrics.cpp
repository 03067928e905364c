#include "models/logistic_regression/binary_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace tandem::models {

BinarySums binary_sums(const double* z, const double* y, int64_t n) {
  BinarySums s;
  for (int64_t i = 0; i < n; ++i) {
    const double zi = z[i];
    s.log_loss += (zi > 0 ? zi : 0.0) + std::log1p(std::exp(-std::abs(zi))) - y[i] * zi;
    s.correct += ((zi > 0) == (y[i] > 0.5)) ? 1.0 : 0.0;
  }
  s.rows = static_cast<double>(n);
  return s;
}

double roc_auc(const std::vector<double>& scores, const std::vector<double>& labels) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks (1-based, ties sharing their average rank).
  double rank_sum = 0, positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = 0.5 * static_cast<double>(i + 1 + j);
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] > 0.5) rank_sum += average_rank, positives += 1;
    }
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

}  // namespace tandem::models
