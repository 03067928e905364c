#pragma once
/// Communication hooks: what the reducer does with a full bucket. The default
/// divides by the world size and all-reduces in place; the compression hooks
/// send a 16-bit copy instead, halving the bytes on the wire (PyTorch's
/// register_comm_hook with fp16/bf16_compress_hook).
///
/// A hook runs in two halves: launch() starts the communication for a bucket as
/// soon as its gradients are ready (inside backward), and finish() runs after
/// the returned work completed, at the end of backward, and must leave the
/// bucket's flat gradient holding the mean over ranks.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "framework/ddp/comm_hook_registry.h"
#include "framework/dist/communicator.h"

namespace tandem::ddp {

/// One bucket as a hook sees it.
struct GradBucket {
  std::size_t index = 0;        ///< position in the bucket order, the same on every rank
  torch::Tensor flat;           ///< this rank's gradients, contiguous; the hook writes the mean here
  std::vector<torch::Tensor> state;  ///< the hook's own buffers for this bucket, kept across steps
};

class CommHook {
 public:
  virtual ~CommHook() = default;
  virtual std::string name() const = 0;
  /// Starts reducing `bucket`; returns the work to wait on.
  virtual std::shared_ptr<dist::Work> launch(GradBucket& bucket, dist::Communicator& comm) = 0;
  /// After the work completed: leave the mean in `bucket.flat`.
  virtual void finish(GradBucket& bucket, dist::Communicator& comm) {}
  /// Bytes this rank contributes to the collective for `bucket` (its payload).
  virtual int64_t payload_bytes(const GradBucket& bucket) const = 0;
};

/// Divide by the world size, all-reduce in place (the default).
std::unique_ptr<CommHook> make_allreduce_hook();

/// Compress to `dtype` (kHalf or kBFloat16) after dividing by the world size,
/// reduce, and decompress into the bucket. Where the backend cannot all-reduce
/// `dtype` (Gloo and bfloat16), the compressed gradients are all-gathered and
/// summed in float32 on every rank in rank order, so all ranks still agree bit
/// for bit.
std::unique_ptr<CommHook> make_compress_hook(torch::ScalarType dtype);

/// The hook registered as `name` (comm_hook_registry.h), as the recipe's
/// ddp.comm_hook names it: the built-in "allreduce", "fp16" and "bf16", or one
/// of your own. BadInput, listing the registered hooks and the nearest name,
/// for any other.
std::unique_ptr<CommHook> make_comm_hook(const std::string& name);

}  // namespace tandem::ddp
