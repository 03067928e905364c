#pragma once
/// `logistic_synthetic`: rows x ~ N(0, I) and labels y ~ Bernoulli(sigmoid(x.beta
/// + intercept)), as in dask-glm's benchmark data. Every value is a pure
/// function of (seed, row, column): a counter-based generator (SplitMix64
/// over the cell's index, Box-Muller for normals) makes any block of rows on
/// demand, so each worker generates only its shard and the union of the shards
/// is the same matrix for every world size. Validation rows are the rows
/// after the training rows.
#include <yaml-cpp/yaml.h>

#include <vector>

#include "data/logistic/labelled_rows.h"
#include "framework/recipe/schema.h"

namespace tandem::data {

struct SyntheticSpec {
  int64_t rows = 100000;
  int64_t columns = 15;
  uint64_t seed = 0;
  std::vector<double> coefficients;  ///< beta, one per column
  double intercept = 0.0;
};

/// The coefficients a spec uses: `given` when not empty (it must hold
/// `columns` numbers), else `columns` numbers uniform in [-scale, scale) from
/// the seed.
std::vector<double> synthetic_coefficients(int64_t columns, uint64_t seed, const std::vector<double>& given,
                                           double scale);

class SyntheticRows : public LabelledRows {
 public:
  /// Rows [first, first + count) of the infinite table that `spec` defines.
  SyntheticRows(SyntheticSpec spec, int64_t first, int64_t count);
  int64_t size() const override { return count_; }
  int64_t features() const override { return spec_.columns; }
  void fill(int64_t begin, int64_t end, double* x, double* y) const override;

 private:
  SyntheticSpec spec_;
  int64_t first_, count_;
};

/// The recipe's logistic_synthetic data section: the training rows' spec and
/// the validation rows generated after them.
struct SyntheticOptions {
  SyntheticSpec spec;
  int64_t val_rows = 0;  ///< 0: no validation split
};

struct SyntheticDataset {
  static recipe::Section schema();
  static DataSplits load(const YAML::Node& section);
  /// The options of a validated section, as the recipe gives them.
  static SyntheticOptions options_from(const YAML::Node& section);
  /// The training rows' spec, with the coefficients drawn when none are given.
  static SyntheticSpec spec_from(const YAML::Node& section);
};

}  // namespace tandem::data
