#include "framework/train/model.h"

namespace tandem {

MetricSums Model::metrics(const Batch& batch, const torch::Tensor& output) {
  const double n = static_cast<double>(batch.size);
  return {{"loss", {loss(batch, output).item<double>() * n, n}}};
}

std::map<std::string, double> Model::derived_metrics(const std::map<std::string, double>&) const { return {}; }

torch::Tensor Model::metric_rows(const Batch&, const torch::Tensor&) { return {}; }

std::map<std::string, double> Model::whole_set_metrics(const torch::Tensor&) { return {}; }

void Model::prepare(const Dataset&) {}

void Model::refresh(const Dataset&) {}

Registry<ModelEntry>& model_registry() {
  static Registry<ModelEntry> registry("model");
  return registry;
}

std::shared_ptr<Model> create_model(const YAML::Node& section) {
  return model_registry().get(section["type"].as<std::string>()).create(section);
}

}  // namespace tandem
