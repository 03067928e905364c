#pragma once
/// Checkpoints: model, optimizer, position in training, RNG state and the
/// resolved config, in one LibTorch archive. Written to a temporary file and
/// renamed, so a kill at any moment leaves the previous checkpoint intact.
///
/// Device-free: every tensor is written as a CPU copy and read back onto the
/// CPU, then copied into the live tensors on whatever device they are. A
/// checkpoint written by a GPU run loads on a machine without one (eval,
/// sample, predict, export) and resumes on GPUs.
#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/train/position.h"
#include "framework/train/checkpoint_files.h"  // checkpoint file names

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
  /// Every rank's CUDA generator state (device_rng_state of its device), row r
  /// for rank r, uint8 on the CPU; empty (undefined) when the run was on the CPU.
  torch::Tensor rng_cuda_ranks;
  /// Loss scaling of a 16-mixed run; unset for the other precisions.
  std::optional<LossScale> loss_scale;
  /// Weight averaging (trainer.average_weights_from), once it has begun: the
  /// checkpoint's model is the mean, and these are the weights training had
  /// reached, in the order of the model's parameters(), so a resume goes on
  /// from them; `averaged_steps` is how many steps the mean holds. Empty
  /// otherwise (and in checkpoints from before weight averaging).
  std::vector<torch::Tensor> training_weights;
  int64_t averaged_steps = 0;
};

/// Writes `model` (and `optimizer`'s state, when given) with `info`, every
/// tensor as a CPU copy. The live tensors are not moved.
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer, const CheckpointInfo& info);

/// The state of a CUDA device's default generator (its Philox seed and offset,
/// uint8 on the CPU), for CheckpointInfo::rng_cuda_ranks. Undefined for any
/// other device: the CPU's generator save_checkpoint records itself.
torch::Tensor device_rng_state(const c10::Device& device);

/// A checkpoint opened once: the seal checked and the archive read onto the
/// CPU, for a caller that needs more than one part of it (a resume).
class Checkpoint {
 public:
  /// BadInput when the file is corrupt (checkpoint_integrity.h) or not a checkpoint.
  explicit Checkpoint(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  /// Position, config, version, watched metrics and the per-rank RNG tables.
  const CheckpointInfo& info() const { return info_; }

  /// See load_model_state.
  void load_model(torch::nn::Module& model);
  /// See load_training_state.
  bool load_training(torch::optim::Optimizer& optimizer, int rank = 0, const c10::Device& device = torch::kCPU);
  /// The model's tensors by their dotted names ("lstm.weight_ih_l0"),
  /// parameters and buffers alike, on the CPU.
  std::vector<std::pair<std::string, torch::Tensor>> model_tensors();

 private:
  std::filesystem::path path_;
  torch::serialize::InputArchive archive_;
  CheckpointInfo info_;
};

/// Reads the position, config, version, watched metrics and RNG tables.
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);

/// Copies the checkpoint's parameters and buffers into `model` (built from the
/// same config), in place where the shapes agree, across devices: tensors keep
/// their identity and device, so DDP's hooks and the optimizer's references
/// stay valid. A tensor of another shape (fitted to the data) is replaced by
/// the checkpoint's, on the device of the tensor it replaces. BadInput names a
/// missing entry.
void load_model_state(const std::filesystem::path& path, torch::nn::Module& model);

/// Loads the optimizer state, each parameter's onto that parameter's device
/// (all of an optimizer's parameters are on one device), and restores the CPU
/// generator of `rank`, and when `device` is a CUDA device its generator too
/// (row `rank` of rng_cuda_ranks).
/// Returns false when the checkpoint holds no state for `rank` (the CPU's:
/// the saving process's is used; the device's: it goes on from its seed): the
/// run continues, but not bit for bit.
bool load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer, int rank = 0,
                         const c10::Device& device = torch::kCPU);

}  // namespace tandem
