// This binary links tandem::models and tandem::data but calls nothing in
// them: if the linker dropped their self-registering objects, these fail.
#include <gtest/gtest.h>

#include "framework/train/dataset.h"
#include "framework/train/model.h"

namespace tandem {

TEST(Registration, BuiltInModelsAreRegistered) {
  EXPECT_TRUE(model_registry().contains("char_lstm"));
  EXPECT_TRUE(model_registry().contains("logistic_regression"));
}

TEST(Registration, BuiltInDatasetsAreRegistered) {
  EXPECT_TRUE(dataset_registry().contains("names"));
  EXPECT_TRUE(dataset_registry().contains("logistic_synthetic"));
  EXPECT_TRUE(dataset_registry().contains("csv"));
}

TEST(Registration, SurvivalModelsAndDatasetsAreRegistered) {
  for (const char* name : {"logistic_hazard", "deepsurv"}) EXPECT_TRUE(model_registry().contains(name)) << name;
  for (const char* name : {"survival_synthetic", "survival_csv"}) EXPECT_TRUE(dataset_registry().contains(name)) << name;
}

TEST(Registration, ModelsBuildFromTheirSchemaDefaults) {
  for (const auto& name : model_registry().names()) {
    const auto& entry = model_registry().get(name);
    recipe::Section schema = entry.schema();
    YAML::Node section;
    section["type"] = name;
    for (const auto& key : schema.keys()) {
      if (key.default_value()) section[key.name()] = *key.default_value();
    }
    auto model = entry.create(section);
    EXPECT_FALSE(model->parameters().empty()) << name;
  }
}

}  // namespace tandem
