#pragma once
/// tandem::Model: what a recipe's `model:` section builds. A model is a
/// torch::nn::Module that also knows its loss and metrics, and registers itself
/// by name so recipes (and users' own CMake projects) can add models without
/// touching the framework.
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "framework/core/registry.h"
#include "framework/recipe/schema.h"
#include "framework/train/batch.h"

namespace tandem {

/// A metric's contribution from one batch: reduced across ranks and batches as
/// sum(sum) / sum(weight).
struct MetricSum {
  double sum = 0.0;
  double weight = 0.0;
};
using MetricSums = std::map<std::string, MetricSum>;

class Model : public torch::nn::Module {
 public:
  /// The network's output for a batch (logits, risk scores, ...).
  virtual torch::Tensor forward(const Batch& batch) = 0;

  /// The training loss, a scalar: the *mean over the batch's samples*. With
  /// equal per-rank batches, averaging gradients over ranks is then exactly the
  /// gradient of the mean over the global batch.
  virtual torch::Tensor loss(const Batch& batch, const torch::Tensor& output) = 0;

  /// Evaluation metrics for a batch. The default reports "loss" weighted by
  /// the number of samples.
  virtual MetricSums metrics(const Batch& batch, const torch::Tensor& output);
};

/// Capability of models that produce text (char_lstm): used by `tandem sample`
/// and the end-of-training samples.
struct GenerateOptions {
  int count = 10;
  double temperature = 1.0;
  std::string prefix;
  uint64_t seed = 0;
  int max_length = 24;
};

class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  virtual std::vector<std::string> generate(const GenerateOptions& options) = 0;
};

/// A registered model: its recipe keys and how to build it from its resolved
/// `model:` section.
struct ModelEntry {
  std::function<recipe::Section()> schema;
  std::function<std::shared_ptr<Model>(const YAML::Node&)> create;
};

Registry<ModelEntry>& model_registry();

struct ModelRegistration {
  ModelRegistration(const std::string& name, ModelEntry entry) { model_registry().add(name, std::move(entry)); }
};

/// Builds the model named by `section["type"]`.
std::shared_ptr<Model> create_model(const YAML::Node& resolved_model_section);

}  // namespace tandem

/// Registers `Class` under `name`. Class needs `static tandem::recipe::Section
/// schema()` and a constructor taking the resolved `model:` section.
#define TANDEM_REGISTER_MODEL(name, Class)                                                     \
  static ::tandem::ModelRegistration TANDEM_CONCAT(tandem_model_registration_, __COUNTER__)( \
      name, ::tandem::ModelEntry{&Class::schema,                                               \
                                 [](const YAML::Node& n) -> std::shared_ptr<::tandem::Model> { \
                                   return std::make_shared<Class>(n);                          \
                                 }})
