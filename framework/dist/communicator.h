#pragma once
/// The collective operations Tandem needs, behind a small interface. This is
/// the only place c10d appears; everything above talks to a Communicator.
/// All operations work in place and return a handle to wait on.
#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framework/dist/world.h"

namespace tandem::dist {

/// A pending collective. wait() blocks until it is done, or throws (timeout,
/// peer failure) with a message that says what went wrong.
class Work {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Work() = default;
  virtual void wait() = 0;
  /// When the operation finished, as seen by the backend's own thread (not
  /// when wait() returned); empty while it runs or where the backend cannot tell.
  virtual std::optional<Clock::time_point> completed_at() const { return std::nullopt; }
};

enum class ReduceOp { kSum, kMax, kMin };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  /// Reduces `tensor` across ranks in place; every rank ends with the result.
  virtual std::shared_ptr<Work> allreduce(at::Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  /// Copies `root`'s `tensor` into every rank's `tensor`.
  virtual std::shared_ptr<Work> broadcast(at::Tensor& tensor, int root = 0) = 0;
  /// outputs[r] receives rank r's `input`; outputs.size() == size(). The
  /// outputs hold the result once wait() has returned.
  virtual std::shared_ptr<Work> allgather(std::vector<at::Tensor>& outputs, const at::Tensor& input) = 0;
  /// Whether allreduce() accepts tensors of `dtype` (Gloo has no bfloat16).
  virtual bool can_allreduce(at::ScalarType dtype) const { return true; }
  virtual std::shared_ptr<Work> barrier() = 0;
};

/// Options for connecting a worker to its peers.
struct DistOptions {
  /// "gloo": every tensor through Gloo (CUDA tensors too); "nccl": CUDA tensors
  /// through NCCL, CPU tensors through Gloo; "auto": nccl on a GPU, else gloo.
  std::string backend = "gloo";
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};  ///< rendezvous and every collective
  int cuda_device = -1;  ///< the rank's GPU (current before connecting); -1: it computes on the CPU
};

/// The backends this build supports ("gloo", and "nccl" where LibTorch has CUDA).
std::vector<std::string> available_backends();

/// CUDA devices this process can see (0 without CUDA, or in a CPU-only build).
int visible_gpus();

/// A communicator for a world of one: every collective is already complete.
std::unique_ptr<Communicator> make_local_communicator();

/// Rendezvous with the peers through Tandem's store at MASTER_ADDR:MASTER_PORT
/// (rank 0 hosts it) and create the process group. For world size 1 this is
/// the local communicator. Times out with a message naming missing ranks.
std::unique_ptr<Communicator> connect(const World& world, const DistOptions& options);

}  // namespace tandem::dist
