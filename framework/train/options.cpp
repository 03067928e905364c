#include "framework/train/options.h"

#include <map>

namespace tandem {

recipe::Section trainer_schema() {
  using recipe::Type;
  recipe::Section s("The training loop.");
  s.add("epochs", Type::kInt, "Passes over the training split.").def(1).min(1);
  s.add("max_steps", Type::kInt, "Stop after this many optimizer steps in all (0: no limit).").def(0).min(0);
  s.add("batch_size", Type::kInt, "Samples per worker per step; the global batch is this times the world size.")
      .def(32)
      .min(1);
  s.add("accumulate_steps", Type::kInt,
        "Micro-batches per optimizer step: gradients of batch_size x accumulate_steps samples, one allreduce.")
      .def(1)
      .min(1);
  s.add("seed", Type::kInt, "Seed for initialisation, shuffling and dropout.").def(0).min(0);
  s.add("log_every", Type::kInt, "Steps between progress lines and metrics records.").def(10).min(1);
  s.add("checkpoint_every", Type::kInt, "Steps between checkpoints (0: only at the end).").def(0).min(0);
  s.add("keep_checkpoints", Type::kInt, "How many of the newest checkpoints to keep.").def(2).min(1);
  s.add("grad_clip", Type::kFloat, "Clip the global gradient norm to this value (0: off).").def(0.0).min(0);
  s.add("validate", Type::kBool, "Evaluate on the validation split after every epoch.").def(true);
  s.add("val_batch_size", Type::kInt, "Samples per worker per validation batch.").def(1024).min(1);
  s.add("samples_at_end", Type::kInt, "For text models: how many samples to print after training.").def(10).min(0);
  return s;
}

namespace {
const std::map<std::string, recipe::Section>& optimizers() {
  using recipe::Type;
  static const std::map<std::string, recipe::Section> table = [] {
    std::map<std::string, recipe::Section> t;
    recipe::Section adam("Adam (Kingma & Ba, 2015).");
    adam.add("lr", Type::kFloat, "Learning rate.").def(1e-3).greater_than(0);
    adam.add("betas", Type::kFloatList, "Decay rates of the moment estimates.").def(std::vector<double>{0.9, 0.999}).min(0).less_than(1);
    adam.add("eps", Type::kFloat, "Term added to the denominator.").def(1e-8).greater_than(0);
    adam.add("weight_decay", Type::kFloat, "L2 penalty added to the gradient.").def(0.0).min(0);
    t.emplace("adam", std::move(adam));
    recipe::Section sgd("Stochastic gradient descent with optional momentum.");
    sgd.add("lr", Type::kFloat, "Learning rate.").def(1e-2).greater_than(0);
    sgd.add("momentum", Type::kFloat, "Momentum factor.").def(0.0).min(0).less_than(1);
    sgd.add("nesterov", Type::kBool, "Use Nesterov momentum.").def(false);
    sgd.add("weight_decay", Type::kFloat, "L2 penalty added to the gradient.").def(0.0).min(0);
    t.emplace("sgd", std::move(sgd));
    return t;
  }();
  return table;
}
}  // namespace

recipe::Section optim_schema() {
  recipe::Section s("The optimizer; `type` selects which, and the keys allowed with it.");
  s.make_variant(
      "type",
      [](const std::string& name) -> const recipe::Section* {
        auto it = optimizers().find(name);
        return it == optimizers().end() ? nullptr : &it->second;
      },
      [] {
        std::vector<std::string> names;
        for (const auto& kv : optimizers()) names.push_back(kv.first);
        return names;
      },
      std::string("adam"));
  return s;
}

TrainerOptions trainer_options_from(const YAML::Node& n) {
  TrainerOptions o;
  o.epochs = n["epochs"].as<int64_t>();
  o.max_steps = n["max_steps"].as<int64_t>();
  o.batch_size = n["batch_size"].as<int64_t>();
  o.accumulate_steps = n["accumulate_steps"].as<int64_t>();
  o.seed = n["seed"].as<uint64_t>();
  o.log_every = n["log_every"].as<int64_t>();
  o.checkpoint_every = n["checkpoint_every"].as<int64_t>();
  o.keep_checkpoints = n["keep_checkpoints"].as<int64_t>();
  o.grad_clip = n["grad_clip"].as<double>();
  o.validate = n["validate"].as<bool>();
  o.val_batch_size = n["val_batch_size"].as<int64_t>();
  o.samples_at_end = n["samples_at_end"].as<int64_t>();
  return o;
}

OptimOptions optim_options_from(const YAML::Node& n) {
  OptimOptions o;
  o.type = n["type"].as<std::string>();
  o.lr = n["lr"].as<double>();
  o.weight_decay = n["weight_decay"].as<double>();
  if (o.type == "adam") {
    o.betas = n["betas"].as<std::vector<double>>();
    o.eps = n["eps"].as<double>();
  } else {
    o.momentum = n["momentum"].as<double>();
    o.nesterov = n["nesterov"].as<bool>();
  }
  return o;
}

}  // namespace tandem
