#pragma once
/// tandem::Dataset: indexed samples, batched on request. A recipe's `data:`
/// section names a registered dataset, which loads its train and validation
/// splits from the resolved section.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <vector>

#include "framework/core/registry.h"
#include "framework/recipe/schema.h"
#include "framework/train/batch.h"

namespace tandem {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  /// The samples at `indices`, in that order, as one batch.
  virtual Batch get(const std::vector<int64_t>& indices) const = 0;
};

struct DataSplits {
  std::shared_ptr<Dataset> train;
  std::shared_ptr<Dataset> val;  ///< may be null when the recipe asks for no validation split
};

struct DatasetEntry {
  std::function<recipe::Section()> schema;
  std::function<DataSplits(const YAML::Node&)> load;
};

Registry<DatasetEntry>& dataset_registry();

struct DatasetRegistration {
  DatasetRegistration(const std::string& name, DatasetEntry entry) {
    dataset_registry().add(name, std::move(entry));
  }
};

/// Loads the dataset named by `section["type"]`.
DataSplits load_dataset(const YAML::Node& resolved_data_section);

}  // namespace tandem

/// Registers a dataset. Class needs `static tandem::recipe::Section schema()`
/// and `static tandem::DataSplits load(const YAML::Node& resolved_data_section)`.
#define TANDEM_REGISTER_DATASET(name, Class)                                                      \
  static ::tandem::DatasetRegistration TANDEM_CONCAT(tandem_dataset_registration_, __COUNTER__)( \
      name, ::tandem::DatasetEntry{&Class::schema, &Class::load})
