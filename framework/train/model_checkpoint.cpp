#include "framework/train/model_checkpoint.h"

#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/train/checkpoint_files.h"

namespace tandem {

std::string LoadedModel::type() const { return config["model"]["type"].as<std::string>(); }

void LoadedModel::throw_missing_capability(const std::string& does) const {
  throw BadInput(fmt::format("model '{}' does not {}", type(), does));
}

void LoadedModel::reconfigure(const YAML::Node& model_section) {
  auto rebuilt = create_model(model_section);
  rebuilt->to(torch::kCPU);
  load_model_state(path, *rebuilt);
  rebuilt->eval();
  model = std::move(rebuilt);
  config["model"] = model_section;
}

LoadedModel load_model_from_checkpoint(const std::filesystem::path& checkpoint) {
  LoadedModel out;
  out.path = resolve_checkpoint(checkpoint);
  Checkpoint opened(out.path);  // read onto the CPU
  out.info = opened.info();
  try {
    out.config = YAML::Load(out.info.config_yaml);
  } catch (const YAML::Exception& e) {
    throw BadInput(fmt::format("{}: the checkpoint's config is not YAML ({})", out.path.string(), e.what()));
  }
  if (!out.config["model"] || !out.config["model"]["type"]) {
    throw BadInput(fmt::format("{}: the checkpoint's config has no model.type", out.path.string()));
  }
  out.model = create_model(out.config["model"]);
  out.model->to(torch::kCPU);
  opened.load_model(*out.model);
  out.model->eval();
  return out;
}

}  // namespace tandem
