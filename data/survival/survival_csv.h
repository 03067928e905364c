#pragma once
/// The `survival_csv` dataset: right-censored data from a CSV file with a
/// duration column, an event column (0/1) and feature columns. Categorical
/// columns are one-hot encoded with the levels seen in the training split.
/// The split into training and validation comes from a split column or from a
/// seeded shuffle. Feature standardisation is not done here: the survival
/// models fit it on the training split and keep it with their weights.
///
/// Errors name file:line, the column, what was expected and what was got:
/// negative or missing durations, events other than 0/1, missing feature
/// values (unless data.missing is `impute`), text in a numeric column, a
/// categorical level the training split does not have.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "data/survival/csv_file.h"
#include "data/survival/survival_table.h"
#include "framework/recipe/schema.h"

namespace tandem::data {

struct SurvivalCsvOptions {
  std::string path;
  std::string duration = "duration";
  std::string event = "event";
  std::vector<std::string> features;     ///< empty: every other column, in file order
  std::vector<std::string> categorical;  ///< features to one-hot encode
  std::string split_column;              ///< empty: a seeded split by val_fraction
  std::string train_value = "train";
  std::string val_value = "test";
  double val_fraction = 0.2;
  uint64_t split_seed = 0;
  double tune_fraction = 0;  ///< with split_column: validate on this share of the training rows instead
  bool impute = false;  ///< missing features: false = error, true = training mean / no level
};

SurvivalCsvOptions survival_csv_options_from(const YAML::Node& resolved_data_section);

/// How features are turned into numbers, fitted on the training rows.
struct SurvivalCsvEncoding {
  struct Column {
    std::string name;
    bool categorical = false;
    double mean = 0;                  ///< numeric: training mean (for imputation)
    std::vector<std::string> levels;  ///< categorical: sorted training levels
  };
  std::vector<Column> columns;
  std::vector<std::string> feature_names() const;  ///< one per encoded column ("sex=1" for a level)
};

/// The training rows' encoding.
SurvivalCsvEncoding fit_survival_csv_encoding(const CsvFile& file, const std::vector<std::size_t>& rows,
                                              const SurvivalCsvOptions& options);

/// Encodes `rows` of `file`. With `with_outcome` the duration and event columns
/// are read and checked; without, they are zeros (for prediction).
std::shared_ptr<SurvivalTable> encode_survival_csv(const CsvFile& file, const std::vector<std::size_t>& rows,
                                                   const SurvivalCsvEncoding& encoding,
                                                   const SurvivalCsvOptions& options, bool with_outcome);

/// Training and validation row indices of `file` under `options`.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_survival_csv(const CsvFile& file,
                                                                                 const SurvivalCsvOptions& options);

struct SurvivalCsvDataset {
  static recipe::Section schema();
  static DataSplits load(const YAML::Node& section);
  /// The training split's encoding of a resolved `data:` section (for `tandem predict`).
  static SurvivalCsvEncoding training_encoding(const YAML::Node& section);
};

}  // namespace tandem::data
