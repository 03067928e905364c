#include "framework/train/optimizer.h"

#include <stdexcept>

namespace tandem {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& o, std::vector<torch::Tensor> params) {
  if (o.type == "adam") {
    if (o.betas.size() != 2) throw std::invalid_argument("optim.betas must hold two numbers");
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(o.lr).betas({o.betas[0], o.betas[1]}).eps(o.eps).weight_decay(o.weight_decay));
  }
  if (o.type == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params,
        torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov).weight_decay(o.weight_decay));
  }
  throw std::invalid_argument("unknown optimizer '" + o.type + "'");
}

double current_lr(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups().front().options().get_lr();
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace tandem
