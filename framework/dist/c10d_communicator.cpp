// The one translation unit that builds c10d process groups. The types that
// differ between LibTorch versions come from torch_compat.h.
#include "framework/dist/c10d_communicator.h"
#include "framework/dist/store.h"
#include "framework/dist/torch_compat.h"

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
  /// its outputs back there).
  C10dWorkHandle(c10::intrusive_ptr<C10dWork> work, std::string what, std::function<void()> on_done = {})
      : work_(std::move(work)), what_(std::move(what)), on_done_(std::move(on_done)) {
    // The backend completes the work's future on its own thread: stamp the
    // time there, so that communication time is measured without waiting.
    try {
      auto done = done_ns_;
      work_->getFuture()->addCallback([done](c10::ivalue::Future&) {
        done->store(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
      });
    } catch (const std::exception&) {
      // A backend without futures: completed_at() stays empty.
    }
  }
  void wait() override {
    try {
      work_->wait();
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("[dist] {} failed: {}", what_, e.what()));
    }
    if (on_done_) {
      on_done_();
      on_done_ = nullptr;
    }
  }
  std::optional<Clock::time_point> completed_at() const override {
    const int64_t ns = done_ns_->load();
    if (ns == 0) return std::nullopt;
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
  }

 private:
  c10::intrusive_ptr<C10dWork> work_;
  std::string what_;
  std::function<void()> on_done_;
  std::shared_ptr<std::atomic<int64_t>> done_ns_ = std::make_shared<std::atomic<int64_t>>(0);
};

c10d::ReduceOp to_c10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return c10d::ReduceOp::SUM;
    case ReduceOp::kMax: return c10d::ReduceOp::MAX;
    case ReduceOp::kMin: return c10d::ReduceOp::MIN;
  }
  return c10d::ReduceOp::SUM;
}

class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<C10dBackend> group, std::string backend)
      : group_(std::move(group)), backend_(std::move(backend)) {}

  int rank() const override { return group_->getRank(); }
  int size() const override { return group_->getSize(); }
  std::string backend() const override { return backend_; }

  std::shared_ptr<Work> allreduce(at::Tensor& tensor, ReduceOp op) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::AllreduceOptions opts;
    opts.reduceOp = to_c10d(op);
    return handle(group_->allreduce(tensors, opts), "allreduce");
  }
  std::shared_ptr<Work> broadcast(at::Tensor& tensor, int root) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    return handle(group_->broadcast(tensors, opts), "broadcast");
  }
  std::shared_ptr<Work> allgather(std::vector<at::Tensor>& outputs, const at::Tensor& input) override {
    auto out = std::make_shared<std::vector<std::vector<at::Tensor>>>(1, outputs);
    std::vector<at::Tensor> in{input};
    auto work = group_->allgather(*out, in);
    // Backends may gather into tensors of their own: copy back once done.
    auto copy_back = [out, outputs]() mutable {
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (!outputs[i].is_same((*out)[0][i])) outputs[i].copy_((*out)[0][i]);
      }
    };
    return std::make_shared<C10dWorkHandle>(std::move(work), fmt::format("allgather on rank {} ({})", rank(), backend_),
                                            std::move(copy_back));
  }
  bool can_allreduce(at::ScalarType dtype) const override {
    return !(backend_ == "gloo" && dtype == at::kBFloat16);
  }
  std::shared_ptr<Work> barrier() override { return handle(group_->barrier(), "barrier"); }

 private:
  std::shared_ptr<Work> handle(c10::intrusive_ptr<C10dWork> work, const char* what) {
    return std::make_shared<C10dWorkHandle>(std::move(work), fmt::format("{} on rank {} ({})", what, rank(), backend_));
  }

  c10::intrusive_ptr<C10dBackend> group_;
  std::string backend_;
};

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
                                                     const DistOptions& options) {
  std::string backend = options.backend;
  if (backend == "auto") {
#ifdef USE_C10D_NCCL
    backend = at::hasCUDA() ? "nccl" : "gloo";
#else
    backend = "gloo";
#endif
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("tandem/" + backend, store);
  if (backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(options.timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (!store_bind_address(world.master_addr).empty()) {
      // A single-host job talks over loopback only.
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world.rank, world.world_size, opts);
    return std::make_unique<C10dCommunicator>(group, "gloo");
  }
#ifdef USE_C10D_NCCL
  if (backend == "nccl") {
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = options.timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, world.rank, world.world_size, opts);
    return std::make_unique<C10dCommunicator>(group, "nccl");
  }
#endif
  throw std::invalid_argument("backend '" + backend + "' is not available in this build of Tandem");
}

}  // namespace tandem::dist
