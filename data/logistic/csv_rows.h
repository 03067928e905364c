#pragma once
/// `csv` logistic data: a label column of 0/1 and numeric feature columns
/// from a CSV file (data/table), split by a seeded shuffle into training and
/// validation rows, with optional standardisation fitted on the training rows.
/// A label other than 0 or 1 is a BadInput naming file, line and column.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "data/logistic/labelled_rows.h"
#include "data/table/csv_table.h"
#include "framework/recipe/schema.h"

namespace tandem::data {

/// Rows held in memory (row-major features and labels).
class MemoryRows : public LabelledRows {
 public:
  MemoryRows(int64_t features, std::vector<double> x, std::vector<double> y,
             std::optional<FeatureScaling> scaling = std::nullopt);
  int64_t size() const override { return static_cast<int64_t>(y_.size()); }
  int64_t features() const override { return features_; }
  void fill(int64_t begin, int64_t end, double* x, double* y) const override;
  std::optional<FeatureScaling> scaling() const override { return scaling_; }

 private:
  int64_t features_;
  std::vector<double> x_, y_;
  std::optional<FeatureScaling> scaling_;
};

struct CsvLogisticOptions {
  std::string path;
  std::string label = "label";
  std::vector<std::string> features;  ///< empty: every column but the label
  bool standardize = false;
  double val_fraction = 0.0;
  uint64_t split_seed = 0;
};

/// Mean and population standard deviation of each column of row-major `x`.
FeatureScaling fit_scaling(const std::vector<double>& x, int64_t features);

/// Reads and splits the file; throws BadInput on bad data.
DataSplits load_csv_logistic(const CsvLogisticOptions& options);

struct CsvLogisticDataset {
  static recipe::Section schema();
  static DataSplits load(const YAML::Node& section);
  /// The options of a validated section.
  static CsvLogisticOptions options_from(const YAML::Node& section);
};

}  // namespace tandem::data
