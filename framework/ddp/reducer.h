#pragma once
/// The reducer runs the buckets planned by bucket_plan.h during backward:
/// gradients live in one flat buffer per bucket (param.grad() is a view into
/// it), a hook marks each parameter ready, and a bucket whose parameters are
/// all ready is handed to the communication hook at once, in the same bucket
/// order on every rank. At the end of backward it waits for every bucket.
///
/// After the first synchronised backward the buckets are rebuilt in the order
/// gradients actually arrived (rank 0's order, broadcast, so every rank agrees),
/// as PyTorch's Reducer does, so that the first bucket to fill is the first to go.
#include <torch/torch.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "framework/ddp/autograd_hook.h"
#include "framework/ddp/bucket_plan.h"
#include "framework/ddp/comm_hook.h"
#include "framework/dist/communicator.h"

namespace tandem::ddp {

/// What the reducer did, for the trainer's metrics. Times are totals over all
/// synchronised steps, on the timeline the gradients live on: the host's clock
/// on a CPU, CUDA events on a GPU reduced by NCCL (see Reducer::counters()).
struct DdpCounters {
  int64_t steps = 0;             ///< backward passes reduced
  int64_t buckets = 0;           ///< buckets per step
  int64_t bytes_per_step = 0;    ///< bytes this rank hands to collectives per step (after compression)
  double comm_s = 0.0;           ///< from the first bucket's launch to the last bucket's completion
  double exposed_comm_s = 0.0;   ///< of that, the time backward's end waited: communication not hidden
  int64_t rebuilds = 0;          ///< bucket rebuilds in arrival order (0 or 1)
};

class Reducer {
 public:
  /// `params` are the parameters that require grad, in registration order;
  /// `names` label them in error messages. With `rebuild_buckets`, buckets are
  /// re-planned in arrival order after the first synchronised backward.
  Reducer(std::vector<torch::Tensor> params, std::vector<std::string> names, dist::Communicator& comm,
          const BucketPlanOptions& options, bool rebuild_buckets = true);
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  /// Replaces the default "divide, then all-reduce" for every bucket. Call
  /// before the first backward.
  void register_comm_hook(std::unique_ptr<CommHook> hook);

  /// Zeroes every bucket and makes each param.grad() a view of its bucket again.
  void zero_grad();

  /// With sync off, backward only accumulates into the buckets; the next
  /// backward with sync on reduces the accumulated gradients (see no_sync()).
  void set_sync(bool enabled) { sync_ = enabled; }
  bool sync() const { return sync_; }

  /// Finds the parameters the graph of `outputs` does not reach and marks
  /// them ready (zero gradient) when the next backward starts, so their
  /// buckets still reduce (find_unused_parameters).
  void prepare_for_backward(const std::vector<torch::Tensor>& outputs);

  /// Rebuilds the buckets in arrival order if a first synchronised backward
  /// has recorded one and no rebuild happened yet. A collective: every rank
  /// calls it at the same point (DistributedDataParallel::before_forward does).
  /// Gradients accumulated so far are kept.
  void rebuild_buckets_if_due();

  /// Throws, naming them, if parameters were replaced after DDP wrapped the
  /// model (their storage swapped, e.g. by Module::load): their gradients
  /// would no longer be reduced, and training would silently go out of sync.
  void check_parameters_attached() const;

  /// What the reducer did so far. On a GPU reduced by NCCL a step's times are
  /// read from CUDA events once the GPU has passed them; reading the counters
  /// waits for the steps still running there, so read them at log points,
  /// not every step.
  const DdpCounters& counters();
  const std::vector<std::vector<std::size_t>>& buckets() const { return plan_; }
  const CommHook& comm_hook() const { return *hook_; }

 private:
  struct Bucket {
    GradBucket grad;
    std::vector<std::size_t> members;
    std::vector<torch::Tensor> views;  // views[j] is members[j]'s gradient
    std::size_t pending = 0;
    std::shared_ptr<dist::Work> work;
  };

  void build(const std::vector<std::size_t>& order);
  void on_grad_ready(std::size_t param);
  void launch_ready_buckets();
  void finalize();
  void bind_grad(std::size_t param);
  /// A synchronised step's marks, read once the device has passed them.
  struct StepTiming {
    std::shared_ptr<const dist::Mark> first_launch;  ///< the first bucket was handed to its collective
    std::shared_ptr<const dist::Mark> backward_end;  ///< backward was done and began to wait
    std::shared_ptr<const dist::Mark> waited;        ///< every bucket's collective was done
    std::vector<std::shared_ptr<const dist::Mark>> done;  ///< each bucket's collective ended
  };
  /// Adds the timings the device has passed to the counters, in step order;
  /// with `block`, all of them, waiting for the device.
  void settle_timings(bool block);

  std::vector<torch::Tensor> params_;
  std::vector<std::string> names_;
  std::vector<ParamInfo> info_;
  dist::Communicator& comm_;
  BucketPlanOptions options_;
  std::unique_ptr<CommHook> hook_;
  std::vector<std::vector<std::size_t>> plan_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_, slot_of_;
  std::vector<char> ready_;
  std::vector<std::unique_ptr<GradReadyHook>> hooks_;
  std::size_t next_to_launch_ = 0;
  bool in_backward_ = false;
  bool sync_ = true;
  bool rebuild_enabled_;
  std::vector<std::size_t> arrival_;  // parameter indices in the order their gradients arrived
  bool rebuild_due_ = false;
  std::shared_ptr<const dist::Mark> first_launch_;
  std::deque<StepTiming> timings_;  ///< steps whose times the device has not passed yet
  std::vector<std::size_t> unused_;  // found by prepare_for_backward, applied at the next backward
  std::mutex mutex_;
  DdpCounters counters_;
};

}  // namespace tandem::ddp
