#pragma once
/// A registered model rebuilt from a checkpoint, for the commands that use a
/// trained model without training it (`tandem eval`, `predict`, `sample`).
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <string>

#include "framework/train/checkpoint.h"
#include "framework/train/model.h"

namespace tandem {

struct LoadedModel {
  std::filesystem::path path;    ///< the checkpoint file read
  CheckpointInfo info;
  YAML::Node config;             ///< the run's resolved config, as the checkpoint holds it
  std::shared_ptr<Model> model;  ///< on the CPU, in evaluation mode

  /// The model's registered name (config `model.type`).
  std::string type() const;
  /// Rebuilds the model from `model_section` (the stored one with inference-only
  /// keys changed, see recipe::Key::inference_only), loads the checkpoint's
  /// state into it again, and keeps that section as config["model"].
  void reconfigure(const YAML::Node& model_section);

  /// The model as capability T (TextGenerator, SurvivalPredictor). BadInput
  /// "model '<type>' does not <does>" when it has not that capability.
  template <typename T>
  T& as(const std::string& does) const {
    if (auto* capable = dynamic_cast<T*>(model.get())) return *capable;
    throw_missing_capability(does);
  }

 private:
  [[noreturn]] void throw_missing_capability(const std::string& does) const;
};

/// Opens `checkpoint` (a checkpoint file, or a run directory: its newest intact
/// checkpoint, see resolve_checkpoint) once, builds the model its config names
/// through the model registry and copies the checkpoint's state into it, on
/// the CPU: a checkpoint written by a GPU run loads on a machine without one.
/// BadInput for a missing or corrupt checkpoint, or one of another model.
LoadedModel load_model_from_checkpoint(const std::filesystem::path& checkpoint);

}  // namespace tandem
