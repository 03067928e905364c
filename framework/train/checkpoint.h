#pragma once
/// Checkpoints: model, optimizer, position in training, RNG state and the
/// resolved config, in one LibTorch archive. Written to a temporary file and
/// renamed, so a kill at any moment leaves the previous checkpoint intact.
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace tandem {

struct TrainingPosition {
  int64_t epoch = 0;          ///< epoch in progress (0-based)
  int64_t step_in_epoch = 0;  ///< optimizer steps already taken in that epoch
  int64_t global_step = 0;    ///< optimizer steps taken in all
};

struct CheckpointInfo {
  TrainingPosition position;
  std::string config_yaml;    ///< the run's resolved config
  std::string tandem_version;
};

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer, const CheckpointInfo& info);

/// Reads the position, config and version (not the tensors).
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);

/// Loads parameters and buffers into `model` (built from the same config).
void load_model_state(const std::filesystem::path& path, torch::nn::Module& model);

/// Loads optimizer state and restores the CPU RNG.
void load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer);

/// `path` itself if it is a file; the newest checkpoints/step-<N>.pt if it is a
/// run directory or its checkpoints/ folder. BadInput if there is none.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

/// checkpoints/step-<N>.pt with N zero-padded so names sort by step.
std::filesystem::path checkpoint_path(const std::filesystem::path& checkpoints_dir, int64_t global_step);

/// Deletes all but the newest `keep` step checkpoints in `checkpoints_dir`.
void prune_checkpoints(const std::filesystem::path& checkpoints_dir, int64_t keep);

}  // namespace tandem
