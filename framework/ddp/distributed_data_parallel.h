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

  /// Call before each forward: checks that no parameter was swapped out from
  /// under DDP (an error naming it), rebuilds the buckets in arrival order once,
  /// after the first synchronised step, and broadcasts buffers from rank 0
  /// when `broadcast_buffers` is set. A collective on every rank.
  void before_forward();

  /// Replaces what a full bucket does (default: divide and all-reduce); see
  /// comm_hook.h. Call before the first backward. The recipe's ddp.comm_hook
  /// picks a built-in one.
  void register_comm_hook(std::unique_ptr<CommHook> hook) { reducer_->register_comm_hook(std::move(hook)); }
  /// Call between forward and backward with the loss (or outputs): with
  /// `find_unused_parameters` it finds the parameters the graph skips.
  void prepare_for_backward(const std::vector<torch::Tensor>& outputs) {
    if (options_.find_unused_parameters) reducer_->prepare_for_backward(outputs);
  }

  /// Zeroes gradients (the flat buckets) for the next step.
  void zero_grad() { reducer_->zero_grad(); }

  /// While the returned guard lives, backward passes accumulate gradients
  /// locally without communication (PyTorch's `with ddp.no_sync():`). The first
  /// backward after it reduces everything accumulated: k micro-batches of B
  /// with one allreduce equal one batch of k*B.
  class NoSync {
   public:
    explicit NoSync(Reducer& r) : reducer_(r), previous_(r.sync()) { reducer_.set_sync(false); }
    ~NoSync() { reducer_.set_sync(previous_); }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    Reducer& reducer_;
    bool previous_;
  };
  NoSync no_sync() { return NoSync(*reducer_); }

  /// Waits for the GPU to pass the steps whose times are still pending there
  /// (Reducer::counters()): read at log points.
  const DdpCounters& counters() { return reducer_->counters(); }
  const Reducer& reducer() const { return *reducer_; }
  Reducer& reducer() { return *reducer_; }

 private:
  /// Copies rank 0's values of `tensors` to every rank, one collective per dtype.
  void broadcast_coalesced(const std::vector<torch::Tensor>& tensors);

  torch::nn::Module& module_;
  dist::Communicator& comm_;
  DdpOptions options_;
  std::unique_ptr<Reducer> reducer_;
};

}  // namespace tandem::ddp
