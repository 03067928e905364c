#pragma once
/// The `names` dataset: a one-name-per-line file split by name into training
/// and validation sets, each turned into CharWindows. With `tune_fraction` > 0
/// a tuning split is carved out of the training names and stands in for the
/// validation split, which stays untouched.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "data/names/char_windows.h"
#include "data/names/names_file.h"
#include "framework/recipe/schema.h"
#include "framework/train/dataset.h"

namespace tandem::data {

struct NamesSplit {
  std::vector<std::string> train, val;
};

/// A seeded split by name: round(n * val_fraction) names go to validation.
NamesSplit split_names(std::vector<std::string> names, double val_fraction, uint64_t seed);

/// The recipe's `names` data section.
struct NamesOptions {
  std::string path;
  int64_t context = 8;         ///< characters of context per window; must equal model.context
  double val_fraction = 0.1;   ///< share of names held out for validation
  uint64_t split_seed = 0;
  double tune_fraction = 0.0;  ///< > 0: a tuning split of the training names stands in for validation
  /// Seed of the tuning split; unset: split_seed. Other seeds draw other tuning
  /// splits (folds) of the same training names, the validation names left out.
  std::optional<uint64_t> tune_seed;
  WindowMode windows = WindowMode::kEveryPosition;
  OnInvalid on_invalid = OnInvalid::kError;
};

struct NamesDataset {
  /// The options of a resolved section.
  static NamesOptions options_from(const YAML::Node& section);
  static recipe::Section schema();
  static DataSplits load(const YAML::Node& section);
  /// The training names of a resolved `data:` section (for "novel names only").
  static std::vector<std::string> training_names(const YAML::Node& section);
  /// The training and validation names of a resolved `data:` section, exactly
  /// as load() splits them (for baselines and sample statistics); with
  /// tune_fraction > 0, `val` is the tuning split and `train` the rest.
  static NamesSplit split(const YAML::Node& section);
};

}  // namespace tandem::data
