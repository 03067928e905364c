// lion: a user's own optimizer, registered from outside the Tandem tree.
// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms",
// arXiv:2302.06675, Algorithm 2): every parameter moves by lr along the sign
// of an interpolation between its momentum and its gradient, with decoupled
// weight decay; the momentum then follows the gradient with a slower rate:
//   c = beta1 * m + (1 - beta1) * g
//   p = p - lr * (sign(c) + weight_decay * p)
//   m = beta2 * m + (1 - beta2) * g
// The momentum m is the optimizer's state: it goes into Tandem's checkpoints
// and comes back on --resume through LibTorch's optimizer serialisation.
#include <fmt/format.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <vector>

#include "framework/recipe/schema.h"
#include "framework/train/optimizer.h"

namespace my_optimizers {

/// One parameter group's settings. get_lr/set_lr let Tandem's schedule set
/// the learning rate of every step.
struct LionOptions : public torch::optim::OptimizerCloneableOptions<LionOptions> {
  explicit LionOptions(double lr) : lr_(lr) {}
  TORCH_ARG(double, lr);
  TORCH_ARG(double, beta1) = 0.9;
  TORCH_ARG(double, beta2) = 0.99;
  TORCH_ARG(double, weight_decay) = 0.0;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(const double lr) override { lr_ = lr; }
  void serialize(torch::serialize::OutputArchive& archive) const override {
    archive.write("lr", c10::IValue(lr_));
    archive.write("beta1", c10::IValue(beta1_));
    archive.write("beta2", c10::IValue(beta2_));
    archive.write("weight_decay", c10::IValue(weight_decay_));
  }
  void serialize(torch::serialize::InputArchive& archive) override {
    c10::IValue value;
    archive.read("lr", value);
    lr_ = value.toDouble();
    archive.read("beta1", value);
    beta1_ = value.toDouble();
    archive.read("beta2", value);
    beta2_ = value.toDouble();
    archive.read("weight_decay", value);
    weight_decay_ = value.toDouble();
  }
};

/// One parameter's state: its momentum.
struct LionParamState : public torch::optim::OptimizerCloneableParamState<LionParamState> {
  TORCH_ARG(torch::Tensor, momentum);

 public:
  void serialize(torch::serialize::OutputArchive& archive) const override {
    archive.write("momentum", c10::IValue(momentum_));
  }
  void serialize(torch::serialize::InputArchive& archive) override {
    c10::IValue value;
    archive.read("momentum", value);
    momentum_ = value.toTensor();
  }
};

class Lion : public torch::optim::Optimizer {
 public:
  Lion(std::vector<torch::Tensor> params, LionOptions options)
      : Optimizer({torch::optim::OptimizerParamGroup(std::move(params))}, std::make_unique<LionOptions>(options)) {}

  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure) {
      torch::AutoGradMode enable_grad(true);
      loss = closure();
    }
    for (auto& group : param_groups()) {
      const auto& o = static_cast<const LionOptions&>(group.options());
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        // tandem::param_state: the slot LibTorch keeps this parameter's state in.
        auto& slot = tandem::param_state(*this, p);
        if (!slot) {
          auto fresh = std::make_unique<LionParamState>();
          fresh->momentum(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          slot = std::move(fresh);
        }
        torch::Tensor& m = static_cast<LionParamState&>(*slot).momentum();
        const torch::Tensor& g = p.grad();
        if (o.weight_decay() != 0) p.mul_(1 - o.lr() * o.weight_decay());
        p.add_(torch::sign(m * o.beta1() + g * (1 - o.beta1())), -o.lr());
        m.mul_(o.beta2()).add_(g, 1 - o.beta2());
      }
    }
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    torch::optim::serialize<LionParamState, LionOptions>(archive, *this);
  }
  void load(torch::serialize::InputArchive& archive) override {
    torch::optim::serialize<LionParamState, LionOptions>(archive, *this);
  }
};

/// The recipe keys of `optim:` with `type: lion` (besides the schedule keys
/// Tandem adds to every optimizer). `my_tandem validate` checks them.
tandem::recipe::Section lion_schema() {
  using tandem::recipe::Type;
  tandem::recipe::Section s("Lion: sign of an interpolated momentum, decoupled weight decay (custom_model example).");
  s.add("lr", Type::kFloat, "Learning rate; 3-10x smaller than Adam's for the same problem.").def(1e-4).greater_than(0);
  s.add("betas", Type::kFloatList, "beta1 (the update's interpolation) and beta2 (the momentum's decay).")
      .def(std::vector<double>{0.9, 0.99})
      .min(0)
      .less_than(1);
  s.add("weight_decay", Type::kFloat, "Decoupled weight decay, scaled by lr.").def(0.0).min(0);
  s.rule([](const YAML::Node& section) -> std::optional<tandem::recipe::Section::Problem> {
    const auto n = section["betas"].size();
    if (n == 2) return std::nullopt;
    return tandem::recipe::Section::Problem{"betas", fmt::format("expected 2 numbers (beta1, beta2), got {}", n)};
  });
  return s;
}

/// Builds Lion from the resolved `optim:` section: every key of lion_schema()
/// is there, checked. The learning rate comes from `args.lr` (scaled).
std::unique_ptr<torch::optim::Optimizer> make_lion(const tandem::OptimizerArgs& args) {
  const auto betas = args.settings["betas"].as<std::vector<double>>();
  return std::make_unique<Lion>(args.params, LionOptions(args.lr)
                                                 .beta1(betas.at(0))
                                                 .beta2(betas.at(1))
                                                 .weight_decay(args.settings["weight_decay"].as<double>()));
}

// Binds `optim.type: lion` in a recipe to this optimizer.
TANDEM_REGISTER_OPTIMIZER("lion", lion_schema, make_lion);

}  // namespace my_optimizers
