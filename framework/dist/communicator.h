#pragma once
/// The collective operations Tandem needs, behind a small interface. This is
/// the only place c10d appears; everything above talks to a Communicator.
/// All operations work in place and return a handle to wait on.
#include <ATen/ATen.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framework/dist/world.h"

namespace tandem::dist {

/// A moment on the timeline of the tensors a collective works on: the host's
/// clock for CPU tensors (Gloo), an event recorded on a CUDA stream for NCCL,
/// whose collectives finish on the GPU after wait() has returned on the host.
/// Marks are compared after the fact, so timing a step never makes the host
/// wait for the GPU inside it.
class Mark {
 public:
  virtual ~Mark() = default;
  /// Whether the moment has passed. Never blocks.
  virtual bool reached() const = 0;
  /// Seconds from `earlier`, a mark on the same timeline, to this one. Blocks
  /// until both are reached.
  virtual double seconds_since(const Mark& earlier) const = 0;
};

/// A pending collective. wait() blocks until it is done, or throws (timeout,
/// peer failure) with a message that says what went wrong. On a GPU "done"
/// means the current stream waits for it: the host goes on at once.
class Work {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Work() = default;
  virtual void wait() = 0;
  /// When the operation finished, on its tensors' timeline: stamped by the
  /// backend's own thread on the host (not when wait() returned), or an event
  /// on the GPU. Null while it runs on the host, or where the backend cannot tell.
  virtual std::shared_ptr<const Mark> completion() const { return nullptr; }
};

/// A mark on the host's clock.
std::shared_ptr<const Mark> host_mark(Work::Clock::time_point at = Work::Clock::now());

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
  /// Now, on the timeline of the collectives that take `tensor`: an event on
  /// the current CUDA stream where NCCL reduces it, the host's clock otherwise.
  virtual std::shared_ptr<const Mark> mark(const at::Tensor& tensor) const {
    (void)tensor;
    return host_mark();
  }
};

/// Options for connecting a worker to its peers.
struct DistOptions {
  /// "gloo": every tensor through Gloo (CUDA tensors too); "nccl": CUDA tensors
  /// through NCCL, CPU tensors through Gloo; "auto": nccl on a GPU, else gloo.
  std::string backend = "gloo";
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};  ///< rendezvous and every collective
  int cuda_device = -1;  ///< the rank's GPU (current before connecting); -1: it computes on the CPU
  /// A job over several hosts: called, from a thread of the communicator's,
  /// when the job loses a member (a worker's process or host, or the store),
  /// with a sentence that names its host and rank. It must end the process
  /// (the worker's own thread may be blocked in a collective). Unset: the
  /// sentence goes to stderr and the process exits with code 1.
  std::function<void(const std::string& what)> on_member_lost;
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
