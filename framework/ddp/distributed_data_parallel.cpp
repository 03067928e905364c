#include "framework/ddp/distributed_data_parallel.h"

#include <torch/csrc/utils/tensor_flatten.h>

#include <map>

namespace tandem::ddp {

DistributedDataParallel::DistributedDataParallel(torch::nn::Module& module, dist::Communicator& comm,
                                                 DdpOptions options)
    : module_(module), comm_(comm), options_(options) {
  std::vector<torch::Tensor> state;
  std::vector<torch::Tensor> params;
  std::vector<std::string> names;
  for (const auto& item : module_.named_parameters()) {
    state.push_back(item.value());
    if (item.value().requires_grad()) {
      params.push_back(item.value());
      names.push_back(item.key());
    }
  }
  for (const auto& buffer : module_.buffers()) state.push_back(buffer);
  broadcast_coalesced(state);
  // With unused parameters the arrival order can change from step to step,
  // so the buckets keep their first plan (as PyTorch does).
  reducer_ = std::make_unique<Reducer>(std::move(params), std::move(names), comm_,
                                       BucketPlanOptions{options_.bucket_cap_mb, options_.first_bucket_mb},
                                       /*rebuild_buckets=*/!options_.find_unused_parameters);
  reducer_->register_comm_hook(make_comm_hook(options_.comm_hook));
}

void DistributedDataParallel::before_forward() {
  reducer_->check_parameters_attached();
  reducer_->rebuild_buckets_if_due();
  if (!options_.broadcast_buffers) return;
  auto buffers = module_.buffers();
  if (!buffers.empty()) broadcast_coalesced(buffers);
}

void DistributedDataParallel::broadcast_coalesced(const std::vector<torch::Tensor>& tensors) {
  if (comm_.size() == 1 || tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::map<std::string, std::vector<torch::Tensor>> groups;
  for (const auto& t : tensors) groups[std::string(c10::toString(t.scalar_type())) + t.device().str()].push_back(t);
  for (auto& [key, group] : groups) {
    torch::Tensor flat = torch::utils::flatten_dense_tensors(group);
    comm_.broadcast(flat, 0)->wait();
    auto parts = torch::utils::unflatten_dense_tensors(flat, group);
    for (std::size_t i = 0; i < group.size(); ++i) group[i].copy_(parts[i]);
  }
}

}  // namespace tandem::ddp
