#include "framework/train/optimizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sstream>
#include <type_traits>

#include "framework/core/error.h"
#include "framework/recipe/validate.h"

namespace tandem {

Registry<OptimizerEntry>& optimizer_registry() {
  static Registry<OptimizerEntry> registry("optimizer");
  return registry;
}

namespace {

/// The optimizer's own keys with their defaults, for options built in code.
YAML::Node schema_defaults(const std::string& type, const OptimizerEntry& entry) {
  std::vector<std::string> problems;
  YAML::Node resolved = recipe::validate(entry.schema(), YAML::Node(YAML::NodeType::Map),
                                         recipe::Origin{"optimizer " + type + " defaults", {}}, problems);
  if (!problems.empty()) {
    throw BadInput(fmt::format("optim: optimizer '{}' has keys without a default, set them in the recipe: {}", type,
                               fmt::join(problems, "; ")));
  }
  return resolved;
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& o, std::vector<torch::Tensor> params) {
  const OptimizerEntry& entry = optimizer_registry().get(o.type);
  OptimizerArgs args{std::move(params), learning_rate(o), o.settings.IsMap() ? o.settings : schema_defaults(o.type, entry)};
  auto optimizer = entry.create(args);
  TANDEM_CHECK(optimizer, "train", "optimizer '{}': its factory returned nothing", o.type);
  return optimizer;
}

double current_lr(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups().front().options().get_lr();
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

namespace {

/// The state map's slot for a TensorImpl; the branch not taken for this
/// LibTorch's key type is discarded, since it depends on `Map`.
template <typename Map>
typename Map::mapped_type& state_slot(Map& state, c10::TensorImpl* impl) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream key;  // the text LibTorch 1.13 makes of the pointer (c10::guts::to_string)
    key << impl;
    return state[key.str()];
  } else {
    return state[impl];
  }
}

}  // namespace

std::unique_ptr<torch::optim::OptimizerParamState>& param_state(torch::optim::Optimizer& optimizer,
                                                               const torch::Tensor& param) {
  return state_slot(optimizer.state(), param.unsafeGetTensorImpl());
}

// The built-in optimizers, registered as a user's are. They sit in this file,
// beside the registry, so that a program that builds any optimizer links them.
namespace {

recipe::Section adam_schema() {
  using recipe::Type;
  recipe::Section adam("Adam (Kingma & Ba, 2015).");
  adam.add("lr", Type::kFloat, "Learning rate.").def(1e-3).greater_than(0);
  adam.add("betas", Type::kFloatList, "Decay rates of the moment estimates.")
      .def(std::vector<double>{0.9, 0.999})
      .min(0)
      .less_than(1);
  adam.add("eps", Type::kFloat, "Term added to the denominator.").def(1e-8).greater_than(0);
  adam.add("weight_decay", Type::kFloat, "L2 penalty added to the gradient.").def(0.0).min(0);
  adam.rule([](const YAML::Node& a) -> std::optional<recipe::Section::Problem> {
    const auto n = a["betas"].size();
    if (n == 2) return std::nullopt;
    return recipe::Section::Problem{"betas", fmt::format("expected 2 numbers (beta1, beta2), got {}", n)};
  });
  return adam;
}

std::unique_ptr<torch::optim::Optimizer> make_adam(const OptimizerArgs& a) {
  const auto betas = a.settings["betas"].as<std::vector<double>>();
  return std::make_unique<torch::optim::Adam>(a.params, torch::optim::AdamOptions(a.lr)
                                                            .betas({betas.at(0), betas.at(1)})
                                                            .eps(a.settings["eps"].as<double>())
                                                            .weight_decay(a.settings["weight_decay"].as<double>()));
}

recipe::Section sgd_schema() {
  using recipe::Type;
  recipe::Section sgd("Stochastic gradient descent with optional momentum.");
  sgd.add("lr", Type::kFloat, "Learning rate.").def(1e-2).greater_than(0);
  sgd.add("momentum", Type::kFloat, "Momentum factor.").def(0.0).min(0).less_than(1);
  sgd.add("nesterov", Type::kBool, "Use Nesterov momentum.").def(false);
  sgd.add("weight_decay", Type::kFloat, "L2 penalty added to the gradient.").def(0.0).min(0);
  return sgd;
}

std::unique_ptr<torch::optim::Optimizer> make_sgd(const OptimizerArgs& a) {
  return std::make_unique<torch::optim::SGD>(a.params, torch::optim::SGDOptions(a.lr)
                                                           .momentum(a.settings["momentum"].as<double>())
                                                           .nesterov(a.settings["nesterov"].as<bool>())
                                                           .weight_decay(a.settings["weight_decay"].as<double>()));
}

}  // namespace

TANDEM_REGISTER_OPTIMIZER("adam", adam_schema, make_adam);
TANDEM_REGISTER_OPTIMIZER("sgd", sgd_schema, make_sgd);

}  // namespace tandem
