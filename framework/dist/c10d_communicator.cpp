// The one translation unit that builds c10d process groups. The types that
// differ between LibTorch versions come from torch_compat.h.
#include "framework/dist/c10d_communicator.h"
#include "framework/dist/store.h"
#include "framework/dist/store_wire.h"
#include "framework/dist/stream_mark.h"
#include "framework/dist/torch_compat.h"
#include "framework/core/error.h"
#include "framework/core/log.h"

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/cuda.h>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <type_traits>

namespace tandem::dist {
namespace {

using compat::C10dBackend;
using compat::C10dWork;

static_assert(std::is_base_of_v<C10dBackend, c10d::ProcessGroupGloo>,
              "torch_compat.h names the wrong base class for this LibTorch's process groups");
#ifdef USE_C10D_NCCL
static_assert(std::is_base_of_v<C10dBackend, c10d::ProcessGroupNCCL>,
              "torch_compat.h names the wrong base class for this LibTorch's process groups");
#endif

class C10dWorkHandle : public Work {
 public:
  /// `on_done` runs in wait(), after the operation succeeded (allgather copies
  /// its outputs back there). With `gpu`, the collective runs on that GPU's
  /// stream (NCCL) and its end is marked there.
  C10dWorkHandle(c10::intrusive_ptr<C10dWork> work, std::string what, std::shared_ptr<Membership> membership,
                 std::function<void()> on_done = {}, std::optional<c10::Device> gpu = std::nullopt)
      : work_(std::move(work)), what_(std::move(what)), membership_(std::move(membership)),
        on_done_(std::move(on_done)) {
    if (gpu) {
      // A side stream waits for the collective (the host does not), and an
      // event on it marks the collective's end.
      end_ = completion_mark(*gpu, [this] { wait_for_work(); });
      return;
    }
    // The backend completes the work's future on its own thread: stamp the
    // time there, so that communication time is measured without waiting.
    try {
      auto done = done_ns_;
      work_->getFuture()->addCallback([done](c10::ivalue::Future&) {
        done->store(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
      });
    } catch (const std::exception&) {
      // A backend without futures: completion() stays empty.
    }
  }
  void wait() override {
    wait_for_work();
    if (on_done_) {
      on_done_();
      on_done_ = nullptr;
    }
  }
  std::shared_ptr<const Mark> completion() const override {
    if (end_) return end_;
    const int64_t ns = done_ns_->load();
    if (ns == 0) return nullptr;
    return host_mark(Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns))));
  }

 private:
  void wait_for_work() {
    try {
      work_->wait();
    } catch (const std::exception& e) {
      // A peer on another host that died or went silent: say which, as the store learnt it.
      std::optional<std::string> lost;
      if (membership_) lost = membership_->lost(std::chrono::milliseconds(wire::kSilentForMs + wire::kBeatEveryMs));
      if (lost) throw std::runtime_error(fmt::format("[dist] {}; {} failed: {}", *lost, what_, e.what()));
      throw std::runtime_error(fmt::format("[dist] {} failed: {}", what_, e.what()));
    }
  }

  c10::intrusive_ptr<C10dWork> work_;
  std::string what_;
  std::shared_ptr<Membership> membership_;
  std::function<void()> on_done_;
  std::shared_ptr<std::atomic<int64_t>> done_ns_ = std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<const Mark> end_;  ///< on the GPU; null for collectives on the host
};

c10d::ReduceOp to_c10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return c10d::ReduceOp::SUM;
    case ReduceOp::kMax: return c10d::ReduceOp::MAX;
    case ReduceOp::kMin: return c10d::ReduceOp::MIN;
  }
  return c10d::ReduceOp::SUM;
}

/// A c10d process group, and the one CUDA tensors take when they have their
/// own (PyTorch's "cpu:gloo,cuda:nccl"): Gloo reduces the CPU tensors of the
/// control plane (stop flags, losses, metrics, RNG states), NCCL the
/// gradients on the GPU.
class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(std::shared_ptr<Membership> membership, c10::intrusive_ptr<C10dBackend> cpu,
                   c10::intrusive_ptr<C10dBackend> cuda = {})
      : cpu_(std::move(cpu)), cuda_(std::move(cuda)), membership_(std::move(membership)) {
    name_ = cuda_ ? fmt::format("cpu:{},cuda:{}", cpu_->getBackendName(), cuda_->getBackendName())
                  : cpu_->getBackendName();
  }
  ~C10dCommunicator() override {
    // Destroyed other than by an exception: this worker finished, and its
    // closing connection is no loss. (Unwinding, it is one: the peers hear of it.)
    if (membership_ && std::uncaught_exceptions() == 0) membership_->leave();
    // NCCL wants its communicators torn down before the process exits.
    if (cuda_) compat::shutdown(*cuda_);
  }

  int rank() const override { return cpu_->getRank(); }
  int size() const override { return cpu_->getSize(); }
  std::string backend() const override { return name_; }

  std::shared_ptr<Work> allreduce(at::Tensor& tensor, ReduceOp op) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::AllreduceOptions opts;
    opts.reduceOp = to_c10d(op);
    return handle(group_for(tensor).allreduce(tensors, opts), "allreduce", tensor);
  }
  std::shared_ptr<Work> broadcast(at::Tensor& tensor, int root) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    return handle(group_for(tensor).broadcast(tensors, opts), "broadcast", tensor);
  }
  std::shared_ptr<Work> allgather(std::vector<at::Tensor>& outputs, const at::Tensor& input) override {
    auto out = std::make_shared<std::vector<std::vector<at::Tensor>>>(1, outputs);
    std::vector<at::Tensor> in{input};
    auto work = group_for(input).allgather(*out, in);
    // Backends may gather into tensors of their own: copy back once done.
    auto copy_back = [out, outputs]() mutable {
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (!outputs[i].is_same((*out)[0][i])) outputs[i].copy_((*out)[0][i]);
      }
    };
    return std::make_shared<C10dWorkHandle>(std::move(work), describe("allgather", input), membership_,
                                            std::move(copy_back), timed_on_gpu(input));
  }
  bool can_allreduce(at::ScalarType dtype) const override {
    // Gloo cannot sum bfloat16; NCCL, which takes every CUDA tensor when present, can.
    return cuda_ || !(name_ == "gloo" && dtype == at::kBFloat16);
  }
  std::shared_ptr<const Mark> mark(const at::Tensor& tensor) const override {
    if (auto gpu = timed_on_gpu(tensor)) return current_stream_mark(*gpu);
    return host_mark();
  }
  /// On the control plane (Gloo): no device is involved.
  std::shared_ptr<Work> barrier() override {
    return std::make_shared<C10dWorkHandle>(
        cpu_->barrier(), fmt::format("barrier on rank {} ({})", rank(), cpu_->getBackendName()), membership_);
  }

 private:
  C10dBackend& group_for(const at::Tensor& tensor) const { return cuda_ && tensor.is_cuda() ? *cuda_ : *cpu_; }
  std::string describe(const char* what, const at::Tensor& tensor) const {
    return fmt::format("{} on rank {} ({})", what, rank(), group_for(tensor).getBackendName());
  }
  std::shared_ptr<Work> handle(c10::intrusive_ptr<C10dWork> work, const char* what, const at::Tensor& tensor) {
    return std::make_shared<C10dWorkHandle>(std::move(work), describe(what, tensor), membership_, nullptr,
                                            timed_on_gpu(tensor));
  }
  /// The GPU whose stream runs the collectives on `tensor`, where NCCL takes
  /// it and this LibTorch can time events; otherwise they are timed on the
  /// host (Gloo completes its work there, CUDA tensors included).
  std::optional<c10::Device> timed_on_gpu(const at::Tensor& tensor) const {
    if (cuda_ && tensor.is_cuda() && can_time_streams()) return tensor.device();
    return std::nullopt;
  }

  c10::intrusive_ptr<C10dBackend> cpu_;
  c10::intrusive_ptr<C10dBackend> cuda_;  ///< NCCL for CUDA tensors; null: the CPU group takes every tensor
  std::string name_;
  // Declared last, so destroyed first: a worker unwinding on an error is
  // reported lost before its groups (and rank 0's store) go.
  std::shared_ptr<Membership> membership_;  ///< null on a single host
};

c10::intrusive_ptr<C10dBackend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                          const DistOptions& options, const Endpoint& endpoint) {
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("tandem/gloo", store);
  auto opts = c10d::ProcessGroupGloo::Options::create(options.timeout);
  // Never createDefaultDevice(): it takes the host name's address, often 127.0.1.1 (endpoint.h).
  opts->devices.push_back(endpoint.address.empty()
                              ? c10d::ProcessGroupGloo::createDeviceForInterface(endpoint.interface)
                              : c10d::ProcessGroupGloo::createDeviceForHostname(endpoint.address));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world.rank, world.world_size, opts);
}

#ifdef USE_C10D_NCCL
/// NCCL's bootstrap picks its own interface, which may not be the one that
/// reaches the other hosts: unless the user named one (NCCL_SOCKET_IFNAME), it
/// takes Gloo's ("=NAME": that interface exactly).
void use_gloo_interface_for_nccl(const World& world, const Endpoint& endpoint) {
  if (!spans_hosts(world)) return;
  if (const char* mine = std::getenv("NCCL_SOCKET_IFNAME"); mine != nullptr && *mine != '\0') {
    if (world.local_rank == 0) log_info("dist", "host {}: NCCL bootstraps over NCCL_SOCKET_IFNAME={}", world.group_rank, mine);
    return;
  }
  if (endpoint.interface.empty()) return;
  ::setenv("NCCL_SOCKET_IFNAME", ("=" + endpoint.interface).c_str(), 1);
  if (world.local_rank == 0) {
    log_info("dist", "host {}: NCCL bootstraps over {}, Gloo's interface", world.group_rank, endpoint.interface);
  }
}

c10::intrusive_ptr<C10dBackend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                          const DistOptions& options, const Endpoint& endpoint) {
  if (options.cuda_device < 0) {
    throw BadInput("launch.backend: expected gloo or auto for a job on the CPU (NCCL reduces CUDA tensors only), "
                   "got nccl; or train on GPUs with trainer.device");
  }
  use_gloo_interface_for_nccl(world, endpoint);
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("tandem/nccl", store);
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = options.timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, world.rank, world.world_size, opts);
  // Bound to the rank's GPU, NCCL creates its communicator there, not on a guessed device.
  compat::bind_device(*group, at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(options.cuda_device)));
  return group;
}
#endif

}  // namespace

std::vector<std::string> available_backends() {
#ifdef USE_C10D_NCCL
  return {"gloo", "nccl"};
#else
  return {"gloo"};
#endif
}

int visible_gpus() { return at::hasCUDA() ? static_cast<int>(torch::cuda::device_count()) : 0; }

std::unique_ptr<Communicator> make_c10d_communicator(c10::intrusive_ptr<c10d::Store> store, const World& world,
                                                     const DistOptions& options, const Endpoint& endpoint,
                                                     std::shared_ptr<Membership> membership) {
  const std::string& backend = options.backend;
  if (backend != "auto" && backend != "gloo" && backend != "nccl") {
    throw std::invalid_argument("backend '" + backend + "' is not available in this build of Tandem");
  }
  // Gloo always: it carries the CPU tensors, and every tensor of a CPU job.
  auto gloo = make_gloo(store, world, options, endpoint);
  // NCCL for the gradients of a GPU job (auto), or whenever asked (nccl).
  const bool nccl = backend == "nccl" || (backend == "auto" && options.cuda_device >= 0);
  if (!nccl) return std::make_unique<C10dCommunicator>(membership, gloo);
#ifdef USE_C10D_NCCL
  return std::make_unique<C10dCommunicator>(membership, gloo, make_nccl(store, world, options, endpoint));
#else
  if (backend == "auto") return std::make_unique<C10dCommunicator>(membership, gloo);  // CUDA tensors through Gloo
  throw std::invalid_argument("backend 'nccl' is not available in this build of Tandem (LibTorch without NCCL)");
#endif
}

}  // namespace tandem::dist
