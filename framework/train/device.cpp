#include "framework/train/device.h"

#include <c10/core/impl/VirtualGuardImpl.h>
#include <fmt/format.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <numeric>

#include "framework/core/error.h"

namespace tandem {
namespace {

/// Every sample of a data set, gathered once into device memory.
class ResidentDataset : public Dataset {
 public:
  ResidentDataset(const Dataset& base, const torch::Device& device) : device_(device) {
    std::vector<int64_t> all(static_cast<std::size_t>(base.size()));
    std::iota(all.begin(), all.end(), int64_t{0});
    all_ = to_device(base.get(all), device);
  }
  int64_t size() const override { return all_.size; }
  Batch get(const std::vector<int64_t>& indices) const override {
    const auto index = torch::tensor(indices, torch::kInt64).to(device_);
    Batch out;
    out.size = static_cast<int64_t>(indices.size());
    for (const auto& [name, t] : all_.fields) out.fields[name] = t.index_select(0, index);
    return out;
  }

 private:
  torch::Device device_;
  Batch all_;
};

/// Batches gathered on the host into pinned memory, then copied to the device
/// without blocking: the copy overlaps the work already queued there.
class StagedDataset : public Dataset {
 public:
  StagedDataset(std::shared_ptr<Dataset> base, const torch::Device& device) : base_(std::move(base)), device_(device) {}
  int64_t size() const override { return base_->size(); }
  Batch get(const std::vector<int64_t>& indices) const override {
    Batch host = base_->get(indices);
    for (auto& [name, t] : host.fields) t = t.pin_memory();
    return to_device(host, device_, /*non_blocking=*/true);
  }

 private:
  std::shared_ptr<Dataset> base_;
  torch::Device device_;
};

int64_t bytes_per_sample(const Dataset& data) {
  int64_t bytes = 0;
  for (const auto& [name, t] : data.get({0}).fields) bytes += t.numel() * static_cast<int64_t>(t.element_size());
  return bytes;
}

}  // namespace

DeviceContext device_context(int local_rank, int local_world_size) {
  DeviceContext c;
  c.local_rank = local_rank;
  c.local_world_size = local_world_size;
  c.cuda_devices = static_cast<int64_t>(torch::cuda::device_count());
  c.cuda_visible_set = std::getenv("CUDA_VISIBLE_DEVICES") != nullptr;
  return c;
}

torch::Device resolve_device(const std::string& option, const DeviceContext& c) {
  if (option == "cpu" || (option == "auto" && c.cuda_devices == 0)) return torch::kCPU;
  if (c.cuda_devices == 0) {
    throw BadInput(fmt::format("trainer.device: expected a visible CUDA device for '{}', got none (no GPU, or "
                               "CUDA_VISIBLE_DEVICES hides them; use cpu or auto)",
                               option));
  }
  if (option.rfind("cuda:", 0) == 0) {
    const std::string number = option.substr(5);
    const bool digits = !number.empty() && number.find_first_not_of("0123456789") == std::string::npos;
    const int64_t index = digits ? std::stoll(number) : -1;
    if (index < 0 || index >= c.cuda_devices) {
      throw BadInput(fmt::format("trainer.device: expected cuda:0 … cuda:{} ({} visible), got '{}'",
                                 c.cuda_devices - 1, c.cuda_devices, option));
    }
    return {torch::kCUDA, static_cast<c10::DeviceIndex>(index)};
  }
  if (option != "cuda" && option != "auto") {
    throw BadInput(fmt::format("trainer.device: expected auto, cpu, cuda or cuda:N, got '{}'", option));
  }
  // One GPU per process. A process that sees one GPU because the scheduler set
  // CUDA_VISIBLE_DEVICES for it alone has its own GPU at index 0.
  if (c.cuda_devices == 1 && c.cuda_visible_set) return {torch::kCUDA, 0};
  if (c.local_rank < c.cuda_devices) return {torch::kCUDA, static_cast<c10::DeviceIndex>(c.local_rank)};
  throw BadInput(fmt::format(
      "trainer.device: expected a GPU of its own for local rank {} ({} workers on this host), got {} visible GPU{}; "
      "start one worker per GPU (--nproc-per-node gpu), or name one GPU for every rank with trainer.device=cuda:0 "
      "(Gloo only: NCCL refuses two ranks on one GPU)",
      c.local_rank, c.local_world_size, c.cuda_devices, c.cuda_devices == 1 ? "" : "s"));
}

void make_current(const torch::Device& device) {
  if (device.is_cuda()) c10::impl::VirtualGuardImpl(device.type()).setDevice(device);
}

void use_deterministic_algorithms() {
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  auto& context = at::globalContext();
  context.setDeterministicAlgorithms(true, /*warn_only=*/false);
  context.setDeterministicCuDNN(true);
  context.setBenchmarkCuDNN(false);
}

Batch to_device(const Batch& batch, const torch::Device& device, bool non_blocking) {
  Batch out;
  out.size = batch.size;
  for (const auto& [name, t] : batch.fields) out.fields[name] = t.to(device, t.scalar_type(), non_blocking);
  return out;
}

std::shared_ptr<Dataset> on_device(std::shared_ptr<Dataset> base, const torch::Device& device,
                                   int64_t resident_limit_bytes) {
  if (!base || device.is_cpu() || base->size() == 0) return base;
  if (bytes_per_sample(*base) * base->size() <= resident_limit_bytes) {
    return std::make_shared<ResidentDataset>(*base, device);
  }
  return std::make_shared<StagedDataset>(std::move(base), device);
}

torch::Device module_device(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  for (const auto& b : module.buffers()) return b.device();
  return torch::kCPU;
}

}  // namespace tandem
