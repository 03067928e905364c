#pragma once
/// The `survival_csv` dataset: right-censored data from a CSV file with a
/// duration column, an event column (0/1) and feature columns. Categorical
/// columns are one-hot encoded with the levels seen in the training split.
/// The split into training and validation comes from a split column, from a
/// seeded shuffle, or from one fold of a seeded K-fold partition. Feature
/// standardisation is not done here: the survival models fit it on the
/// training split and keep it with their weights.
///
/// The file is read by tandem::table (data/table) with the categorical and
/// split columns as text and missing numeric cells allowed through, so this
/// loader decides about them. Errors name file:line, the column, what was
/// expected and what was got: negative or missing durations, events other than
/// 0/1, missing feature values (unless data.missing is `impute`), text in a
/// numeric column (the table's message), a categorical level the training
/// split does not have.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "data/survival/encoding.h"
#include "data/survival/survival_table.h"
#include "data/table/csv_table.h"
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
  double tune_fraction = 0;  ///< with split_column or folds: validate on this share of the training rows instead
  int64_t folds = 0;         ///< K-fold cross-validation: 0 off, else K >= 2 folds of the pool
  int64_t fold = 0;          ///< the fold validated on, 0 <= fold < folds
  double holdout_fraction = 0;  ///< share of the training rows held out for choosing the best epoch
  bool impute = false;  ///< missing features: false = error, true = training mean / no level
};

SurvivalCsvOptions survival_csv_options_from(const YAML::Node& resolved_data_section);

/// How features are turned into numbers, fitted on the training rows.
using SurvivalCsvEncoding = FeatureEncoding;

/// Reads a survival CSV file: `text_columns` (the categorical and split
/// columns) as text, missing numeric cells as NaN; only `columns` when given.
CsvTable read_survival_csv(const std::string& path, const std::vector<std::string>& text_columns,
                           const std::vector<std::string>& columns = {});

/// The training rows' encoding.
SurvivalCsvEncoding fit_survival_csv_encoding(const CsvTable& file, const std::vector<std::size_t>& rows,
                                              const SurvivalCsvOptions& options);

/// Encodes `rows` of `file`. With `with_outcome` the duration and event columns
/// are read and checked; without, they are zeros (for prediction).
std::shared_ptr<SurvivalTable> encode_survival_csv(const CsvTable& file, const std::vector<std::size_t>& rows,
                                                   const SurvivalCsvEncoding& encoding,
                                                   const SurvivalCsvOptions& options, bool with_outcome);

/// Training, validation and holdout row indices of `file` under `options`.
struct SurvivalCsvRows {
  std::vector<std::size_t> train, val, holdout;
};
SurvivalCsvRows split_survival_csv(const CsvTable& file, const SurvivalCsvOptions& options);

struct SurvivalCsvDataset {
  static recipe::Section schema();
  static DataSplits load(const YAML::Node& section);
};

}  // namespace tandem::data
