#pragma once
/// Builds the torch optimizer a recipe's `optim:` section describes.
#include <torch/torch.h>

#include <memory>

#include "framework/train/options.h"

namespace tandem {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& options,
                                                        std::vector<torch::Tensor> params);

/// The learning rate of the first parameter group.
double current_lr(const torch::optim::Optimizer& optimizer);

/// Sets the learning rate of every parameter group.
void set_lr(torch::optim::Optimizer& optimizer, double lr);

}  // namespace tandem
