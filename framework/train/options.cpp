#include "framework/train/options.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <memory>

#include "framework/core/error.h"
#include "framework/recipe/binding.h"
#include "framework/train/optimizer_registry.h"

namespace tandem {

namespace {

const std::vector<std::pair<std::string, Goal>> kGoalWords{{"min", Goal::kMin}, {"max", Goal::kMax}};
const std::vector<std::pair<std::string, LrScaling>> kLrScalingWords{
    {"none", LrScaling::kNone}, {"linear", LrScaling::kLinear}, {"sqrt", LrScaling::kSqrt}};
const std::vector<std::pair<std::string, LrDecay>> kLrDecayWords{{"constant", LrDecay::kConstant},
                                                                 {"cosine", LrDecay::kCosine}};

/// The word of `value` in `words`.
template <typename Enum>
std::string word_of(const std::vector<std::pair<std::string, Enum>>& words, Enum value) {
  for (const auto& [word, v] : words) {
    if (v == value) return word;
  }
  return "?";
}

/// The value of `word` in `words`, or nothing.
template <typename Enum>
std::optional<Enum> value_of(const std::vector<std::pair<std::string, Enum>>& words, const std::string& word) {
  for (const auto& [w, value] : words) {
    if (w == word) return value;
  }
  return std::nullopt;
}

template <typename Enum>
std::string words_of(const std::vector<std::pair<std::string, Enum>>& words) {
  std::vector<std::string> all;
  for (const auto& entry : words) all.push_back(entry.first);
  return fmt::format("{}", fmt::join(all, ", "));
}

using TrainerBinding = recipe::Binding<TrainerOptions>;

/// target, early_stopping and best_checkpoint: what the trainer's watchers read.
void bind_watchers(TrainerBinding& b) {
  using Target = TrainerOptions::Target;
  using EarlyStopping = TrainerOptions::EarlyStopping;
  using BestCheckpoint = TrainerOptions::BestCheckpoint;
  auto target = b.section("target", &TrainerOptions::target,
                          "Record when a metric first reaches a value, and optionally stop there.");
  target.optional("metric", &Target::metric, "`loss` (logged training loss) or `val_<name>`, e.g. val_loss.");
  target.optional("value", &Target::value, "The value to reach.");
  target.enumeration("mode", &Target::mode, "min: reached at or below the value; max: at or above.", kGoalWords);
  target.key("stop", &Target::stop, "Stop training when the target is reached.");
  auto early = b.section("early_stopping", &TrainerOptions::early_stopping,
                         "Stop when a validation metric stops improving (Lightning's EarlyStopping).");
  early.optional("metric", &EarlyStopping::metric,
                 "The validation metric to watch, `val_<name>`, e.g. val_loss; none: off.");
  early.enumeration("mode", &EarlyStopping::mode, "min: lower is better; max: higher is better.", kGoalWords);
  early.key("patience", &EarlyStopping::patience, "Validations in a row without improvement before training stops.")
      .min(1);
  early.key("min_delta", &EarlyStopping::min_delta, "An improvement must beat the best value by more than this.")
      .min(0);
  auto best = b.section("best_checkpoint", &TrainerOptions::best_checkpoint,
                        "Keep the checkpoint of the best validation as checkpoints/best.pt.");
  best.optional("metric", &BestCheckpoint::metric,
                "The validation metric that ranks checkpoints, `val_<name>`; none: off.");
  best.enumeration("mode", &BestCheckpoint::mode, "min: lower is better; max: higher is better.", kGoalWords);
}

/// Checks across keys: a target names a metric the run reports, the device
/// is well formed, and watchers of validation metrics need validation.
void add_trainer_rules(TrainerBinding& s) {
  s.rule([](const YAML::Node& t) -> std::optional<recipe::Section::Problem> {
    const YAML::Node target = t["target"];
    if (!target["metric"]) return std::nullopt;
    const auto metric = target["metric"].as<std::string>();
    if (!target["value"]) {
      return recipe::Section::Problem{"target.value",
                                      fmt::format("expected the value of {} to reach, got nothing", metric)};
    }
    if (metric != "loss" && metric.rfind("val_", 0) != 0) {
      return recipe::Section::Problem{
          "target.metric",
          fmt::format("expected `loss` or a validation metric `val_<name>` (e.g. val_loss), got '{}'", metric)};
    }
    if (metric != "loss" && !t["validate"].as<bool>()) {
      return recipe::Section::Problem{
          "target.metric", fmt::format("expected `loss` with trainer.validate false, got '{}' (a validation metric)",
                                       metric)};
    }
    return std::nullopt;
  });
  s.rule([](const YAML::Node& t) -> std::optional<recipe::Section::Problem> {
    const auto device = t["device"].as<std::string>();
    const std::string number = device.rfind("cuda:", 0) == 0 ? device.substr(5) : "";
    if (device == "auto" || device == "cpu" || device == "cuda" ||
        (!number.empty() && number.find_first_not_of("0123456789") == std::string::npos)) {
      return std::nullopt;
    }
    return recipe::Section::Problem{"device", fmt::format("expected auto, cpu, cuda or cuda:N, got '{}'", device)};
  });
  // Early stopping and the best checkpoint watch a validation metric.
  for (const std::string section : {"early_stopping", "best_checkpoint"}) {
    s.rule([section](const YAML::Node& t) -> std::optional<recipe::Section::Problem> {
      const YAML::Node watch = t[section];
      if (!watch["metric"]) return std::nullopt;
      const auto metric = watch["metric"].as<std::string>();
      if (metric.rfind("val_", 0) != 0) {
        return recipe::Section::Problem{
            section + ".metric",
            fmt::format("expected a validation metric `val_<name>` (e.g. val_loss), got '{}'", metric)};
      }
      if (!t["validate"].as<bool>()) {
        return recipe::Section::Problem{
            section + ".metric",
            fmt::format("expected no {} with trainer.validate false (it watches validations), got '{}'",
                        section == "early_stopping" ? "early stopping" : "best checkpoint", metric)};
      }
      return std::nullopt;
    });
  }
}

}  // namespace

namespace {

/// The run's length, batches, logging and checkpoints.
void bind_loop_keys(TrainerBinding& b) {
  using T = TrainerOptions;
  b.key("epochs", &T::epochs, "Passes over the training split.").min(1);
  b.key("max_steps", &T::max_steps, "Stop after this many optimizer steps in all (0: no limit).").min(0);
  b.key("batch_size", &T::batch_size, "Samples per worker per step; the global batch is this times the world size.")
      .min(1);
  b.key("accumulate_steps", &T::accumulate_steps,
        "Micro-batches per optimizer step: gradients of batch_size x accumulate_steps samples, one allreduce.")
      .min(1);
  b.key("seed", &T::seed, "Seed for initialisation, shuffling and dropout.").min(0);
  b.key("log_every", &T::log_every, "Steps between progress lines and metrics records.").min(1);
  b.key("checkpoint_every", &T::checkpoint_every, "Steps between checkpoints (0: only at the end).").min(0);
  b.key("keep_checkpoints", &T::keep_checkpoints, "How many of the newest checkpoints to keep.").min(1);
  b.key("grad_clip", &T::grad_clip, "Clip the global gradient norm to this value (0: off).").min(0);
  b.key("validate", &T::validate, "Evaluate on the validation split after every epoch.");
  b.key("val_batch_size", &T::val_batch_size, "Samples per worker per validation batch.").min(1);
  b.key("samples_at_end", &T::samples_at_end, "For text models: how many samples to print after training.").min(0);
  b.key("global_batch_size", &T::global_batch_size,
        "Keep the global batch constant: batch_size = this / (workers x accumulate_steps) (0: off, batch_size "
        "is per worker).")
      .min(0);
  b.key("val_every", &T::val_every, "Also validate every this many steps inside an epoch (0: at epoch ends only).")
      .min(0);
  b.key("val_samples", &T::val_samples,
        "Validate on the first this many samples of the validation split (cheaper frequent validations, as "
        "Lightning's limit_val_batches); 0: all of it.")
      .min(0);
  b.key("average_weights_from", &T::average_weights_from,
        "From this share of the planned steps on, average the weights of every step (stochastic weight "
        "averaging, with the run's own learning rate schedule); validation, checkpoints and the trained model use "
        "the mean. 0: off.")
      .min(0)
      .less_than(1);
}

/// Where and how each worker computes.
void bind_device_keys(TrainerBinding& b) {
  using T = TrainerOptions;
  b.key("device", &T::device,
        "Where each worker computes: auto (its own GPU, cuda:LOCAL_RANK, when GPUs are visible, else the CPU), "
        "cpu, cuda, or cuda:N (that GPU for every rank).");
  b.choice("precision", &T::precision,
           "32: float32. bf16-mixed: forward and loss under bfloat16 autocast, float32 weights and optimizer. "
           "16-mixed: float16 autocast with dynamic loss scaling (CUDA only), skipped steps logged.",
           {"32", "bf16-mixed", "16-mixed"});
  b.key("deterministic", &T::deterministic,
        "Deterministic algorithms only, as Lightning's deterministic=True: on a GPU, a resumed run then ends "
        "bit for bit where an uninterrupted one ends (cuDNN and cuBLAS otherwise may not repeat themselves); "
        "an operation without a deterministic implementation is an error naming it.");
}

/// Every key of the trainer: section, bound to its TrainerOptions field.
TrainerBinding trainer_bindings() {
  TrainerBinding b("The training loop.");
  bind_loop_keys(b);
  bind_device_keys(b);
  bind_watchers(b);
  add_trainer_rules(b);
  return b;
}

}  // namespace

recipe::Section trainer_schema() { return trainer_bindings().schema(); }

TrainerOptions trainer_options_from(const YAML::Node& n) { return trainer_bindings().read(n); }

namespace {

using OptimBinding = recipe::Binding<OptimOptions>;

/// Scaling and schedule keys, the same for every optimizer, added to `base`.
OptimBinding schedule_bindings(recipe::Section base) {
  using O = OptimOptions;
  OptimBinding b(std::move(base));
  b.enumeration("lr_scaling", &O::lr_scaling,
                "Scale lr with the number of workers N: linear (x N/base), sqrt, or none.", kLrScalingWords);
  b.key("lr_base_workers", &O::lr_base_workers, "The worker count `lr` was tuned for (the base of lr_scaling).")
      .min(1);
  b.key("warmup_steps", &O::warmup_steps, "Linear warmup from lr/warmup_steps to lr over this many steps.").min(0);
  b.key("warmup_epochs", &O::warmup_epochs, "Warmup given in epochs instead of steps (use one of the two).").min(0);
  b.enumeration("decay", &O::decay,
                "After warmup: keep lr constant, or cosine-decay it to lr x min_lr_factor at the end.",
                kLrDecayWords);
  b.key("min_lr_factor", &O::min_lr_factor, "Where the cosine decay ends, as a fraction of lr.").min(0).max(1);
  b.rule([](const YAML::Node& o) -> std::optional<recipe::Section::Problem> {
    const auto steps = o["warmup_steps"].as<int64_t>();
    const auto epochs = o["warmup_epochs"].as<double>();
    if (steps == 0 || epochs == 0) return std::nullopt;
    return recipe::Section::Problem{
        "warmup_epochs", fmt::format("expected 0 with optim.warmup_steps {} (give one of the two), got {}", steps,
                                     epochs)};
  });
  return b;
}

/// The learning rate of an optimizer that declares none.
constexpr double kDefaultLr = 1e-3;

/// The section of a registered optimizer: its own keys, `lr` if it has none,
/// and the schedule keys.
recipe::Section optimizer_section(const OptimizerEntry& entry) {
  recipe::Section s = entry.schema();
  if (!s.find_key("lr")) s.add("lr", recipe::Type::kFloat, "Learning rate.").def(kDefaultLr).greater_than(0);
  return schedule_bindings(std::move(s)).schema();
}

}  // namespace

recipe::Section optim_schema() {
  // Each optimizer's section is built once, on first use, and kept for the process.
  auto cache = std::make_shared<std::map<std::string, recipe::Section>>();
  recipe::Section s("The optimizer; `type` selects which, and the keys allowed with it.");
  s.make_variant(
      "type",
      [cache](const std::string& name) -> const recipe::Section* {
        if (!optimizer_registry().contains(name)) return nullptr;
        auto it = cache->find(name);
        if (it == cache->end()) it = cache->emplace(name, optimizer_section(optimizer_registry().get(name))).first;
        return &it->second;
      },
      [] { return optimizer_registry().names(); }, OptimOptions().type);
  return s;
}

OptimOptions optim_options_from(const YAML::Node& n) {
  // type and lr belong to the optimizer's own section (its default lr is its
  // own); the schedule keys are bound to their fields.
  OptimOptions o = schedule_bindings(recipe::Section()).read(n);
  o.type = n["type"].as<std::string>();
  o.lr = n["lr"].as<double>();
  o.settings = YAML::Clone(n);
  return o;
}

double learning_rate(const OptimOptions& o) {
  if (o.lr) return *o.lr;
  const recipe::Section section = optimizer_section(optimizer_registry().get(o.type));
  return section.find_key("lr")->default_value()->as<double>();
}

LrScaling lr_scaling_from(const std::string& word) {
  if (auto value = value_of(kLrScalingWords, word)) return *value;
  throw BadInput(fmt::format("optim.lr_scaling: expected one of {}, got '{}'", words_of(kLrScalingWords), word));
}

LrDecay lr_decay_from(const std::string& word) {
  if (auto value = value_of(kLrDecayWords, word)) return *value;
  throw BadInput(fmt::format("optim.decay: expected one of {}, got '{}'", words_of(kLrDecayWords), word));
}

std::string to_string(LrScaling scaling) { return word_of(kLrScalingWords, scaling); }

std::string to_string(LrDecay decay) { return word_of(kLrDecayWords, decay); }

Goal goal_from(const std::string& word) {
  if (auto value = value_of(kGoalWords, word)) return *value;
  throw std::invalid_argument(fmt::format("expected one of {}, got '{}'", words_of(kGoalWords), word));
}

std::string to_string(Goal goal) { return word_of(kGoalWords, goal); }

}  // namespace tandem
