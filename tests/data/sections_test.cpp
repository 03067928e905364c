// One declaration per option for the data sets: an empty data: section (with
// only its required keys) reads as the options struct's own defaults, and a
// value reaches its field, including the ones the recipe spells differently
// (a comma-separated list of names, a word for a flag).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/logistic/csv_rows.h"
#include "data/names/names_dataset.h"
#include "data/logistic/synthetic.h"
#include "data/survival/survival_csv.h"
#include "data/survival/synthetic.h"
#include "framework/recipe/recipe.h"

namespace tandem::data {
namespace {

/// The resolved data: section of `text`, validated against `schema`.
YAML::Node resolved(const recipe::Section& schema, const std::string& text) {
  recipe::Section root;
  root.adopt("data", schema);
  return recipe::load_text(text, "r.yaml", {}, root).config["data"];
}

/// A file that exists (validation checks `path` keys), in the source tree.
std::string existing_file() { return std::string(TANDEM_SOURCE_DIR) + "/CMakeLists.txt"; }

TEST(DataSections, NamesEmptyIsTheStructsDefaultsAndModesAreWords) {
  const NamesOptions d;
  const auto got =
      NamesDataset::options_from(resolved(NamesDataset::schema(), "data: {path: " + existing_file() + "}\n"));
  EXPECT_EQ(got.context, d.context);
  EXPECT_EQ(got.val_fraction, d.val_fraction);
  EXPECT_EQ(got.split_seed, d.split_seed);
  EXPECT_EQ(got.tune_fraction, d.tune_fraction);
  EXPECT_FALSE(got.tune_seed.has_value()) << "unset: split_seed";
  EXPECT_EQ(got.windows, d.windows);
  EXPECT_EQ(got.on_invalid, d.on_invalid);
  const auto set = NamesDataset::options_from(resolved(
      NamesDataset::schema(),
      "data: {path: " + existing_file() +
          ", windows: whole_name, on_invalid: skip, tune_fraction: 0.1, tune_seed: 2}\n"));
  EXPECT_EQ(set.windows, WindowMode::kWholeName);
  EXPECT_EQ(set.on_invalid, OnInvalid::kSkip);
  EXPECT_EQ(set.tune_fraction, 0.1);
  EXPECT_EQ(set.tune_seed, 2u);
  EXPECT_EQ(set.path, existing_file());
}

TEST(DataSections, CsvEmptyIsTheStructsDefaultsAndFeaturesAreAList) {
  const CsvLogisticOptions d;
  const auto got = CsvLogisticDataset::options_from(
      resolved(CsvLogisticDataset::schema(), "data: {path: " + existing_file() + "}\n"));
  EXPECT_EQ(got.label, d.label);
  EXPECT_EQ(got.features, d.features);
  EXPECT_EQ(got.standardize, d.standardize);
  EXPECT_EQ(got.val_fraction, d.val_fraction);
  EXPECT_EQ(got.split_seed, d.split_seed);
  const auto set = CsvLogisticDataset::options_from(resolved(
      CsvLogisticDataset::schema(), "data: {path: " + existing_file() + ", features: ' a, b ,c', label: y}\n"));
  EXPECT_EQ(set.features, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(set.label, "y");
}

TEST(DataSections, LogisticSyntheticEmptyIsTheStructsDefaults) {
  const SyntheticOptions d;
  const auto got = SyntheticDataset::options_from(resolved(SyntheticDataset::schema(), "data: {}\n"));
  EXPECT_EQ(got.spec.rows, d.spec.rows);
  EXPECT_EQ(got.spec.columns, d.spec.columns);
  EXPECT_EQ(got.spec.seed, d.spec.seed);
  EXPECT_EQ(got.spec.coefficients, d.spec.coefficients);
  EXPECT_EQ(got.spec.intercept, d.spec.intercept);
  EXPECT_EQ(got.val_rows, d.val_rows);
  const auto set = SyntheticDataset::options_from(
      resolved(SyntheticDataset::schema(), "data: {rows: 50, columns: 2, coefficients: [1, -1], val_rows: 5}\n"));
  EXPECT_EQ(set.spec.rows, 50);
  EXPECT_EQ(set.spec.coefficients, (std::vector<double>{1, -1}));
  EXPECT_EQ(set.val_rows, 5);
}

TEST(DataSections, SurvivalCsvEmptyIsTheStructsDefaultsAndMissingIsAWord) {
  const SurvivalCsvOptions d;
  const auto got =
      survival_csv_options_from(resolved(SurvivalCsvDataset::schema(), "data: {path: " + existing_file() + "}\n"));
  EXPECT_EQ(got.duration, d.duration);
  EXPECT_EQ(got.event, d.event);
  EXPECT_EQ(got.features, d.features);
  EXPECT_EQ(got.categorical, d.categorical);
  EXPECT_EQ(got.split_column, d.split_column);
  EXPECT_EQ(got.train_value, d.train_value);
  EXPECT_EQ(got.val_value, d.val_value);
  EXPECT_EQ(got.val_fraction, d.val_fraction);
  EXPECT_EQ(got.split_seed, d.split_seed);
  EXPECT_EQ(got.tune_fraction, d.tune_fraction);
  EXPECT_EQ(got.folds, d.folds);
  EXPECT_EQ(got.fold, d.fold);
  EXPECT_EQ(got.holdout_fraction, d.holdout_fraction);
  EXPECT_EQ(got.impute, d.impute);
  const auto set = survival_csv_options_from(resolved(
      SurvivalCsvDataset::schema(),
      "data: {path: " + existing_file() + ", missing: impute, categorical: 'grade,stage', folds: 5, fold: 4}\n"));
  EXPECT_TRUE(set.impute);
  EXPECT_EQ(set.categorical, (std::vector<std::string>{"grade", "stage"}));
  EXPECT_EQ(set.folds, 5);
  EXPECT_EQ(set.fold, 4);
}

TEST(DataSections, SurvivalSyntheticEmptyIsTheStructsDefaultsAndEffectIsAWord) {
  const SyntheticSurvivalOptions d;
  const auto got = SyntheticSurvivalDataset::options_from(resolved(SyntheticSurvivalDataset::schema(), "data: {}\n"));
  EXPECT_EQ(got.n_train, d.n_train);
  EXPECT_EQ(got.n_val, d.n_val);
  EXPECT_EQ(got.features, d.features);
  EXPECT_EQ(got.nonlinear, d.nonlinear);
  EXPECT_EQ(got.shape, d.shape);
  EXPECT_EQ(got.scale, d.scale);
  EXPECT_EQ(got.censor_mean, d.censor_mean);
  EXPECT_EQ(got.seed, d.seed);
  const auto set = SyntheticSurvivalDataset::options_from(
      resolved(SyntheticSurvivalDataset::schema(), "data: {effect: nonlinear, n_val: 0}\n"));
  EXPECT_TRUE(set.nonlinear);
  EXPECT_EQ(set.n_val, 0);
}

}  // namespace
}  // namespace tandem::data
