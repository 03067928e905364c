#pragma once
/// Where a worker computes: `trainer.device`, resolved once per worker before
/// it joins the world, and the data sets that hand that device its batches.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "framework/train/batch.h"
#include "framework/train/dataset.h"

namespace tandem {

/// What decides the device, besides the recipe: this process's place on its
/// host and the CUDA devices it can see.
struct DeviceContext {
  int local_rank = 0;
  int local_world_size = 1;
  int64_t cuda_devices = 0;        ///< torch::cuda::device_count(): what CUDA_VISIBLE_DEVICES leaves
  bool cuda_visible_set = false;   ///< CUDA_VISIBLE_DEVICES is set for this process
};

/// The context of this process, read from the environment and the CUDA runtime.
DeviceContext device_context(int local_rank, int local_world_size);

/// Resolves `trainer.device` (auto | cpu | cuda | cuda:N):
/// - cpu: the CPU;
/// - cuda: one GPU per process, `cuda:LOCAL_RANK`; or `cuda:0` when the process
///   sees exactly one GPU because CUDA_VISIBLE_DEVICES gave it its own (Slurm,
///   Kubernetes); BadInput naming the key when the rank has no GPU of its own;
/// - cuda:N: that GPU, whichever the rank (several ranks may share it; NCCL
///   refuses that, Gloo with CUDA tensors does not);
/// - auto: cuda when a GPU is visible, else cpu.
torch::Device resolve_device(const std::string& option, const DeviceContext& context);

/// Makes `device` the current CUDA device of this process (nothing for the
/// CPU), so the process group's CUDA work and the caching allocator start on
/// it. Call it before joining the world.
void make_current(const torch::Device& device);

/// Lightning's `Trainer(deterministic=True)` (trainer.deterministic): every
/// operation picks a deterministic algorithm or fails naming itself,
/// cuDNN neither autotunes nor takes a nondeterministic algorithm, and cuBLAS
/// gets the fixed workspace it needs to repeat itself (CUBLAS_WORKSPACE_CONFIG,
/// unless already set). Call before the first CUDA work. On a GPU this makes a
/// resumed run end bit for bit where an uninterrupted one ends; on the CPU
/// Tandem's runs repeat without it.
void use_deterministic_algorithms();

/// Every field of `batch` on `device`; `non_blocking` copies from pinned memory
/// overlap the device's work.
Batch to_device(const Batch& batch, const torch::Device& device, bool non_blocking = false);

/// The data set the loop reads on `device`: `base` itself on the CPU; on a GPU,
/// every sample kept resident in device memory when it fits in
/// `resident_limit_bytes` (one gather per batch, no copy), else batches
/// gathered on the host into pinned memory and copied without blocking.
std::shared_ptr<Dataset> on_device(std::shared_ptr<Dataset> base, const torch::Device& device,
                                   int64_t resident_limit_bytes = int64_t{1} << 30);

/// The device of a module's first parameter or buffer (the CPU for none).
torch::Device module_device(const torch::nn::Module& module);

}  // namespace tandem
