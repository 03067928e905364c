#pragma once
/// The `names` dataset: a one-name-per-line file split by name into training
/// and validation sets, each turned into CharWindows. With `tune_fraction` > 0
/// a tuning split is carved out of the training names and stands in for the
/// validation split, which stays untouched.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "framework/recipe/schema.h"
#include "framework/train/dataset.h"

namespace tandem::data {

struct NamesSplit {
  std::vector<std::string> train, val;
};

/// A seeded split by name: round(n * val_fraction) names go to validation.
NamesSplit split_names(std::vector<std::string> names, double val_fraction, uint64_t seed);

struct NamesDataset {
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
