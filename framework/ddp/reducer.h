#pragma once
/// The reducer runs the buckets planned by bucket_plan.h during backward:
/// gradients live in one flat buffer per bucket (param.grad() is a view into
/// it), a hook marks each parameter ready, and a bucket whose parameters are
/// all ready is all-reduced asynchronously at once, in the same bucket order on
/// every rank. At the end of backward it waits for every bucket.
#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "framework/ddp/autograd_hook.h"
#include "framework/ddp/bucket_plan.h"
#include "framework/dist/communicator.h"

namespace tandem::ddp {

/// What the reducer did, for the trainer's metrics.
struct DdpCounters {
  int64_t steps = 0;             ///< backward passes reduced
  int64_t buckets = 0;           ///< buckets per step
  int64_t bytes_per_step = 0;    ///< gradient bytes all-reduced per step
  double exposed_comm_s = 0.0;   ///< total time backward's end waited for communication
};

class Reducer {
 public:
  /// `params` are the parameters that require grad, in registration order;
  /// `names` label them in error messages.
  Reducer(std::vector<torch::Tensor> params, std::vector<std::string> names, dist::Communicator& comm,
          const BucketPlanOptions& options);
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  /// Zeroes every bucket and makes each param.grad() a view of its bucket again.
  void zero_grad();

  /// With sync off, backward only accumulates into the buckets; the next
  /// backward with sync on reduces the accumulated gradients (see no_sync()).
  void set_sync(bool enabled) { sync_ = enabled; }

  /// Finds the parameters the graph of `outputs` does not reach and marks
  /// them ready (zero gradient) when the next backward starts, so their
  /// buckets still reduce (find_unused_parameters).
  void prepare_for_backward(const std::vector<torch::Tensor>& outputs);
  bool sync() const { return sync_; }

  const DdpCounters& counters() const { return counters_; }
  const std::vector<std::vector<std::size_t>>& buckets() const { return plan_; }

 private:
  struct Bucket {
    torch::Tensor flat;
    std::vector<std::size_t> members;
    std::vector<torch::Tensor> views;  // views[j] is members[j]'s gradient
    std::size_t pending = 0;
    std::shared_ptr<dist::Work> work;
  };

  void on_grad_ready(std::size_t param);
  void launch_ready_buckets();
  void finalize();
  void bind_grad(std::size_t param);

  std::vector<torch::Tensor> params_;
  std::vector<std::string> names_;
  dist::Communicator& comm_;
  std::vector<std::vector<std::size_t>> plan_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_, slot_of_;
  std::vector<char> ready_;
  std::vector<std::unique_ptr<GradReadyHook>> hooks_;
  std::size_t next_to_launch_ = 0;
  bool in_backward_ = false;
  bool sync_ = true;
  std::vector<std::size_t> unused_;  // found by prepare_for_backward, applied at the next backward
  std::mutex mutex_;
  DdpCounters counters_;
};

}  // namespace tandem::ddp
