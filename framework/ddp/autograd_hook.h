#pragma once
/// The autograd shim: the two engine features DDP needs, kept in one place
/// because their C++ API differs between LibTorch versions.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

namespace tandem::ddp {

/// A hook on a leaf parameter's gradient accumulator: `fn` runs each time
/// backward has accumulated a gradient into `param.grad()`. The hook is removed
/// when the returned object is destroyed.
class GradReadyHook {
 public:
  GradReadyHook(const torch::Tensor& param, std::function<void()> fn);
  ~GradReadyHook();
  /// The parameter's gradient accumulator node in the autograd graph.
  const torch::autograd::Node* accumulator() const { return accumulator_.get(); }
  /// Whether `param` still accumulates through this hook's node. Swapping a
  /// parameter's storage (Tensor::set_, which LibTorch's Module::load uses)
  /// gives it a new accumulator, and the hook would silently stop firing.
  bool attached_to(const torch::Tensor& param) const;
  GradReadyHook(const GradReadyHook&) = delete;
  GradReadyHook& operator=(const GradReadyHook&) = delete;

 private:
  std::shared_ptr<torch::autograd::Node> accumulator_;  // kept alive, as c10d's Reducer does
  std::uintptr_t key_ = 0;
};

/// Every autograd node that backward from `roots` would visit.
std::unordered_set<const torch::autograd::Node*> reachable_nodes(const std::vector<torch::Tensor>& roots);

/// Runs `fn` once the backward pass that is running now has finished. Must be
/// called from inside backward (from a GradReadyHook).
void queue_end_of_backward(std::function<void()> fn);

}  // namespace tandem::ddp
