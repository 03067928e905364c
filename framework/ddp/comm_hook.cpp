#include "framework/ddp/comm_hook.h"

#include "framework/core/error.h"

namespace tandem::ddp {
namespace {

class AllreduceHook : public CommHook {
 public:
  std::string name() const override { return "allreduce"; }
  std::shared_ptr<dist::Work> launch(GradBucket& bucket, dist::Communicator& comm) override {
    bucket.flat.div_(comm.size());  // the mean, as a sum of pre-divided gradients
    return comm.allreduce(bucket.flat);
  }
  int64_t payload_bytes(const GradBucket& bucket) const override {
    return bucket.flat.numel() * static_cast<int64_t>(bucket.flat.element_size());
  }
};

class CompressHook : public CommHook {
 public:
  explicit CompressHook(torch::ScalarType dtype) : dtype_(dtype) {}
  std::string name() const override { return dtype_ == torch::kHalf ? "fp16" : "bf16"; }

  std::shared_ptr<dist::Work> launch(GradBucket& bucket, dist::Communicator& comm) override {
    const int world = comm.size();
    const int64_t n = bucket.flat.numel();
    auto& state = bucket.state;
    const bool gather = !comm.can_allreduce(dtype_);
    if (state.empty()) {
      const auto opts = bucket.flat.options().dtype(dtype_);
      state.push_back(torch::empty({n}, opts));
      if (gather) {
        state.push_back(torch::empty({world, n}, opts));
        state.push_back(torch::empty({world, n}, bucket.flat.options().dtype(torch::kFloat)));
      }
    }
    // Divide before compressing, so the sum cannot overflow where the mean does not.
    bucket.flat.div_(world);
    state[0].copy_(bucket.flat);
    if (!gather) return comm.allreduce(state[0]);
    // Gathering only copies bytes: the bfloat16 bits travel labelled as
    // float16, a 2-byte type Gloo accepts (it has no int16 either). Row r
    // receives rank r's compressed gradients.
    auto rows = state[1].view(torch::kHalf).unbind(0);
    return comm.allgather(rows, state[0].view(torch::kHalf));
  }

  void finish(GradBucket& bucket, dist::Communicator& comm) override {
    auto& state = bucket.state;
    if (state.size() == 1) {
      bucket.flat.copy_(state[0]);
      return;
    }
    // Every rank sums the same gathered rows in the same order: identical results.
    state[2].copy_(state[1]);
    if (bucket.flat.scalar_type() == torch::kFloat) {
      torch::sum_out(bucket.flat, state[2], {0});
    } else {
      bucket.flat.copy_(state[2].sum(0));
    }
  }

  int64_t payload_bytes(const GradBucket& bucket) const override {
    return bucket.flat.numel() * static_cast<int64_t>(c10::elementSize(dtype_));
  }

 private:
  torch::ScalarType dtype_;
};

}  // namespace

std::unique_ptr<CommHook> make_allreduce_hook() { return std::make_unique<AllreduceHook>(); }

std::unique_ptr<CommHook> make_compress_hook(torch::ScalarType dtype) {
  if (dtype != torch::kHalf && dtype != torch::kBFloat16) {
    throw std::invalid_argument("[ddp] a compression hook takes float16 or bfloat16");
  }
  return std::make_unique<CompressHook>(dtype);
}

Registry<CommHookEntry>& comm_hook_registry() {
  static Registry<CommHookEntry> registry("communication hook");
  return registry;
}

std::unique_ptr<CommHook> make_comm_hook(const std::string& name) {
  auto hook = comm_hook_registry().get(name).create();
  TANDEM_CHECK(hook, "ddp", "communication hook '{}': its factory returned nothing", name);
  return hook;
}

// The built-in hooks, registered as a user's are; beside the registry, so a
// program that makes any hook links them.
TANDEM_REGISTER_COMM_HOOK("allreduce", make_allreduce_hook);
TANDEM_REGISTER_COMM_HOOK("fp16", [] { return make_compress_hook(torch::kHalf); });
TANDEM_REGISTER_COMM_HOOK("bf16", [] { return make_compress_hook(torch::kBFloat16); });

}  // namespace tandem::ddp
