#pragma once
/// Rows of numeric features with a 0/1 label: what the logistic_regression
/// model trains on. A dataset of this kind serves minibatches (fields "x",
/// float64 [B, features], and "y", float64 [B] of 0/1) and, for the full-batch
/// solvers, any contiguous block of rows, so that each worker materialises only
/// its own shard.
///
/// Standardisation statistics, when the dataset has them, are fitted on the
/// training rows; the rows themselves are served unscaled and the model
/// applies (x - mean) / scale, keeping the statistics with its parameters.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "framework/train/dataset.h"

namespace tandem::data {

struct FeatureScaling {
  std::vector<double> mean;
  std::vector<double> scale;  ///< the population standard deviation, 1 where it is 0
};

class LabelledRows : public Dataset {
 public:
  virtual int64_t features() const = 0;
  /// Writes rows [begin, end) to `x` (row-major, (end - begin) * features()
  /// doubles) and their labels to `y`.
  virtual void fill(int64_t begin, int64_t end, double* x, double* y) const = 0;
  /// Standardisation fitted on the training rows, if the recipe asked for it.
  virtual std::optional<FeatureScaling> scaling() const { return std::nullopt; }

  Batch get(const std::vector<int64_t>& indices) const override;
};

/// The rows rank `rank` of `world` holds: [n*rank/world, n*(rank+1)/world).
/// The blocks of all ranks tile [0, n) in order, whatever the world size.
std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int world);

}  // namespace tandem::data
