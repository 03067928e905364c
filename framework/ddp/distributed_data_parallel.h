#pragma once
/// Tandem's data-parallel wrapper. It makes every rank start from rank 0's
/// parameters and buffers, and keeps gradients in sync through a Reducer, so
/// that N ranks with batch B each take the same steps as one process with batch
/// N*B. The module itself is used as usual; call before_forward() and
/// zero_grad() around each step (the trainer does).
#include <torch/torch.h>

#include <memory>

#include "framework/ddp/options.h"
#include "framework/ddp/reducer.h"
#include "framework/dist/communicator.h"

namespace tandem::ddp {

class DistributedDataParallel {
 public:
  DistributedDataParallel(torch::nn::Module& module, dist::Communicator& comm, DdpOptions options = {});

  /// Broadcasts buffers from rank 0 when `broadcast_buffers` is set.
  void before_forward();
  /// Zeroes gradients (the flat buckets) for the next step.
  void zero_grad() { reducer_->zero_grad(); }

  const DdpCounters& counters() const { return reducer_->counters(); }
  const Reducer& reducer() const { return *reducer_; }

 private:
  /// Copies rank 0's values of `tensors` to every rank, one collective per dtype.
  void broadcast_coalesced(const std::vector<torch::Tensor>& tensors);

  torch::nn::Module& module_;
  dist::Communicator& comm_;
  DdpOptions options_;
  std::unique_ptr<Reducer> reducer_;
};

}  // namespace tandem::ddp
