#include "framework/train/dataset.h"

namespace tandem {

Registry<DatasetEntry>& dataset_registry() {
  static Registry<DatasetEntry> registry("dataset");
  return registry;
}

DataSplits load_dataset(const YAML::Node& section) {
  return dataset_registry().get(section["type"].as<std::string>()).load(section);
}

}  // namespace tandem
