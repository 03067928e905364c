#include "framework/train/model.h"

namespace tandem {

MetricSums Model::metrics(const Batch& batch, const torch::Tensor& output) {
  const double n = static_cast<double>(batch.size);
  return {{"loss", {loss(batch, output).item<double>() * n, n}}};
}

Registry<ModelEntry>& model_registry() {
  static Registry<ModelEntry> registry("model");
  return registry;
}

std::shared_ptr<Model> create_model(const YAML::Node& section) {
  return model_registry().get(section["type"].as<std::string>()).create(section);
}

}  // namespace tandem
