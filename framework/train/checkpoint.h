#pragma once
/// Checkpoints: model, optimizer, position in training, RNG state and the
/// resolved config, in one LibTorch archive. Written to a temporary file and
/// renamed, so a kill at any moment leaves the previous checkpoint intact.
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "framework/train/position.h"
#include "framework/train/run_dir.h"  // checkpoint file names

namespace tandem {

struct CheckpointInfo {
  TrainingPosition position;
  std::string config_yaml;    ///< the run's resolved config
  std::string tandem_version;
  int64_t world_size = 1;     ///< ranks that trained it
  /// Every rank's CPU generator state, row r for rank r (dropout masks differ
  /// per rank); empty: the saving process's own state only.
  torch::Tensor rng_cpu_ranks;
  WatchedMetric early_stopping;
  WatchedMetric best_checkpoint;
};

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer, const CheckpointInfo& info);

/// Reads the position, config and version (not the tensors).
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);

/// Copies the checkpoint's parameters and buffers into `model` (built from the
/// same config), in place where the shapes agree: tensors keep their identity,
/// so DDP's hooks and the optimizer's references stay valid. A tensor of another
/// shape (fitted to the data) is replaced. BadInput names a missing entry.
void load_model_state(const std::filesystem::path& path, torch::nn::Module& model);

/// Loads optimizer state and restores the CPU RNG of `rank` (the saving
/// process's state where the checkpoint has no row for `rank`). Returns false
/// in that case: the run continues, but not bit for bit.
bool load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer, int rank = 0);

}  // namespace tandem
