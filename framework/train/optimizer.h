#pragma once
/// Builds the torch optimizer a recipe's `optim:` section names, through the
/// optimizer registry (optimizer_registry.h), and reads and sets its learning
/// rate. Include this file to register an optimizer of your own:
///
///   recipe::Section lion_schema();   // its keys: lr, betas, weight_decay, ...
///   std::unique_ptr<torch::optim::Optimizer> make_lion(const tandem::OptimizerArgs& args);
///   TANDEM_REGISTER_OPTIMIZER("lion", lion_schema, make_lion);
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <vector>

#include "framework/train/optimizer_registry.h"
#include "framework/train/options.h"

namespace tandem {

/// What a registered optimizer's factory builds from.
struct OptimizerArgs {
  std::vector<torch::Tensor> params;
  /// The learning rate to start with: `optim.lr` after scaling with the world
  /// size. The schedule sets each step's rate afterwards (set_lr), so the
  /// optimizer's options must report and accept it (get_lr / set_lr).
  double lr = 1e-3;
  /// The resolved `optim:` section: every key of the optimizer's schema is
  /// present, defaults filled in, types and ranges already checked.
  YAML::Node settings;
};

/// The optimizer `options.type` names, over `params`. BadInput, listing the
/// registered optimizers and the nearest name, when none is registered so.
/// `options.settings` empty (options built in code, not from a recipe): the
/// optimizer's schema defaults.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& options,
                                                        std::vector<torch::Tensor> params);

/// The learning rate of the first parameter group.
double current_lr(const torch::optim::Optimizer& optimizer);

/// Sets the learning rate of every parameter group.
void set_lr(torch::optim::Optimizer& optimizer, double lr);

/// The slot of `param`'s state in `optimizer.state()` (empty until the
/// optimizer fills it), for the step() of an optimizer of your own: LibTorch
/// keys that map by the parameter's TensorImpl, as text in 1.13 and as the
/// pointer from 2.0, so the key is made to the map's own key type. LibTorch's
/// torch::optim::serialize<ParamState, Options> then saves and loads the state.
std::unique_ptr<torch::optim::OptimizerParamState>& param_state(torch::optim::Optimizer& optimizer,
                                                               const torch::Tensor& param);

}  // namespace tandem
