#include "framework/ddp/autograd_hook.h"

#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <stdexcept>

#include "framework/core/error.h"

namespace tandem::ddp {
namespace {

// FunctionPostHook's call signature is the same in LibTorch 1.13 and 2.x; 2.x
// adds optional virtuals (compiled autograd) that have defaults.
class PostHook : public torch::autograd::FunctionPostHook {
 public:
  explicit PostHook(std::function<void()> fn) : fn_(std::move(fn)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    fn_();
    return outputs;
  }

 private:
  std::function<void()> fn_;
};

}  // namespace

GradReadyHook::GradReadyHook(const torch::Tensor& param, std::function<void()> fn) {
  TANDEM_CHECK(param.requires_grad() && param.is_leaf(), "ddp", "gradient hooks need leaf parameters that require grad");
  accumulator_ = torch::autograd::impl::grad_accumulator(param);
  key_ = accumulator_->add_post_hook(std::make_unique<PostHook>(std::move(fn)));
}

bool GradReadyHook::attached_to(const torch::Tensor& param) const {
  return torch::autograd::impl::grad_accumulator(param).get() == accumulator_.get();
}

GradReadyHook::~GradReadyHook() {
  if (accumulator_) accumulator_->del_post_hook(key_);
}

std::unordered_set<const torch::autograd::Node*> reachable_nodes(const std::vector<torch::Tensor>& roots) {
  std::unordered_set<const torch::autograd::Node*> seen;
  std::vector<torch::autograd::Node*> stack;
  for (const auto& root : roots) {
    if (root.defined() && root.grad_fn()) stack.push_back(root.grad_fn().get());
  }
  while (!stack.empty()) {
    torch::autograd::Node* node = stack.back();
    stack.pop_back();
    if (!seen.insert(node).second) continue;
    for (const auto& edge : node->next_edges()) {
      if (edge.function) stack.push_back(edge.function.get());
    }
  }
  return seen;
}

void queue_end_of_backward(std::function<void()> fn) {
  torch::autograd::Engine::get_default_engine().queue_callback(std::move(fn));
}

}  // namespace tandem::ddp
