#pragma once
/// The optimizers a recipe's `optim.type` may name. Each one registers its
/// recipe keys (a schema) and a factory, with TANDEM_REGISTER_OPTIMIZER: the
/// built-in adam and sgd (framework/train/optimizer.cpp) exactly as a user's
/// own optimizer in an out-of-tree project. `tandem validate` then checks the
/// optimizer's keys (unknown key, wrong type, range) and suggests the nearest
/// registered name for a typo in `optim.type`.
///
/// This header does not include LibTorch, so the recipe schema can be built
/// from it; the factory's argument, OptimizerArgs, is in optimizer.h.
#include <functional>
#include <memory>
#include <string>

#include "framework/core/registry.h"
#include "framework/recipe/schema.h"

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace tandem {

struct OptimizerArgs;  // framework/train/optimizer.h

/// A registered optimizer.
struct OptimizerEntry {
  /// Its recipe keys besides `type`. It should declare `lr` with its default;
  /// Tandem adds `lr` (default 1e-3) when it does not, and the schedule keys
  /// (lr_scaling, warmup_*, decay, ...) to every optimizer.
  std::function<recipe::Section()> schema;
  /// Builds it over the parameters from the resolved `optim:` section.
  std::function<std::unique_ptr<torch::optim::Optimizer>(const OptimizerArgs&)> create;
};

Registry<OptimizerEntry>& optimizer_registry();

struct OptimizerRegistration {
  OptimizerRegistration(const std::string& name, OptimizerEntry entry) {
    optimizer_registry().add(name, std::move(entry));
  }
};

}  // namespace tandem

/// Registers an optimizer under `name` (a string literal). `schema` is a
/// function `tandem::recipe::Section()`, `create` a function
/// `std::unique_ptr<torch::optim::Optimizer>(const tandem::OptimizerArgs&)`.
/// A second registration of the same name stops the program at start-up.
#define TANDEM_REGISTER_OPTIMIZER(name, schema, create)                                             \
  static ::tandem::OptimizerRegistration TANDEM_CONCAT(tandem_optimizer_registration_, __COUNTER__)( \
      name, ::tandem::OptimizerEntry{schema, create})
