#include "framework/train/options.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <memory>

#include "framework/core/error.h"
#include "framework/train/optimizer_registry.h"

namespace tandem {

namespace {

/// target, early_stopping and best_checkpoint: what the trainer's watchers read.
void add_watcher_sections(recipe::Section& s) {
  using recipe::Type;
  auto& target = s.section("target", "Record when a metric first reaches a value, and optionally stop there.");
  target.add("metric", Type::kString, "`loss` (logged training loss) or `val_<name>`, e.g. val_loss.").optional();
  target.add("value", Type::kFloat, "The value to reach.").optional();
  target.add("mode", Type::kChoice, "min: reached at or below the value; max: at or above.")
      .choices({"min", "max"})
      .def(std::string("min"));
  target.add("stop", Type::kBool, "Stop training when the target is reached.").def(true);
  auto& early = s.section("early_stopping", "Stop when a validation metric stops improving (Lightning's EarlyStopping).");
  early.add("metric", Type::kString, "The validation metric to watch, `val_<name>`, e.g. val_loss; none: off.")
      .optional();
  early.add("mode", Type::kChoice, "min: lower is better; max: higher is better.")
      .choices({"min", "max"})
      .def(std::string("min"));
  early.add("patience", Type::kInt, "Validations in a row without improvement before training stops.").def(3).min(1);
  early.add("min_delta", Type::kFloat, "An improvement must beat the best value by more than this.").def(0.0).min(0);
  auto& best = s.section("best_checkpoint", "Keep the checkpoint of the best validation as checkpoints/best.pt.");
  best.add("metric", Type::kString, "The validation metric that ranks checkpoints, `val_<name>`; none: off.").optional();
  best.add("mode", Type::kChoice, "min: lower is better; max: higher is better.")
      .choices({"min", "max"})
      .def(std::string("min"));
}

/// Checks across keys: a target names a metric the run reports, the device
/// is well formed, and watchers of validation metrics need validation.
void add_trainer_rules(recipe::Section& s) {
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
  s.add("global_batch_size", Type::kInt,
        "Keep the global batch constant: batch_size = this / (workers x accumulate_steps) (0: off, batch_size "
        "is per worker).")
      .def(0)
      .min(0);
  s.add("val_every", Type::kInt, "Also validate every this many steps inside an epoch (0: at epoch ends only).")
      .def(0)
      .min(0);
  s.add("val_samples", Type::kInt, "Validate on the first this many samples of the validation split (cheaper "
                                   "frequent validations, as Lightning's limit_val_batches); 0: all of it.")
      .def(0)
      .min(0);
  s.add("device", Type::kString,
        "Where each worker computes: auto (its own GPU, cuda:LOCAL_RANK, when GPUs are visible, else the CPU), "
        "cpu, cuda, or cuda:N (that GPU for every rank).")
      .def(std::string("auto"));
  s.add("precision", Type::kChoice,
        "32: float32. bf16-mixed: forward and loss under bfloat16 autocast, float32 weights and optimizer. "
        "16-mixed: float16 autocast with dynamic loss scaling (CUDA only), skipped steps logged.")
      .choices({"32", "bf16-mixed", "16-mixed"})
      .def(std::string("32"));
  s.add("deterministic", Type::kBool,
        "Deterministic algorithms only, as Lightning's deterministic=True: on a GPU, a resumed run then ends "
        "bit for bit where an uninterrupted one ends (cuDNN and cuBLAS otherwise may not repeat themselves); "
        "an operation without a deterministic implementation is an error naming it.")
      .def(false);
  add_watcher_sections(s);
  add_trainer_rules(s);
  return s;
}

namespace {
/// Scaling and schedule keys, the same for every optimizer.
void add_schedule_keys(recipe::Section& s) {
  using recipe::Type;
  s.add("lr_scaling", Type::kChoice, "Scale lr with the number of workers N: linear (x N/base), sqrt, or none.")
      .choices({"none", "linear", "sqrt"})
      .def(std::string("none"));
  s.add("lr_base_workers", Type::kInt, "The worker count `lr` was tuned for (the base of lr_scaling).").def(1).min(1);
  s.add("warmup_steps", Type::kInt, "Linear warmup from lr/warmup_steps to lr over this many steps.").def(0).min(0);
  s.add("warmup_epochs", Type::kFloat, "Warmup given in epochs instead of steps (use one of the two).").def(0.0).min(0);
  s.add("decay", Type::kChoice, "After warmup: keep lr constant, or cosine-decay it to lr x min_lr_factor at the end.")
      .choices({"constant", "cosine"})
      .def(std::string("constant"));
  s.add("min_lr_factor", Type::kFloat, "Where the cosine decay ends, as a fraction of lr.").def(0.0).min(0).max(1);
  s.rule([](const YAML::Node& o) -> std::optional<recipe::Section::Problem> {
    const auto steps = o["warmup_steps"].as<int64_t>();
    const auto epochs = o["warmup_epochs"].as<double>();
    if (steps == 0 || epochs == 0) return std::nullopt;
    return recipe::Section::Problem{
        "warmup_epochs", fmt::format("expected 0 with optim.warmup_steps {} (give one of the two), got {}", steps,
                                     epochs)};
  });
}

/// The section of a registered optimizer: its own keys, `lr` if it has none,
/// and the schedule keys.
recipe::Section optimizer_section(const OptimizerEntry& entry) {
  recipe::Section s = entry.schema();
  if (!s.find_key("lr")) s.add("lr", recipe::Type::kFloat, "Learning rate.").def(1e-3).greater_than(0);
  add_schedule_keys(s);
  return s;
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
      [] { return optimizer_registry().names(); }, std::string("adam"));
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
  o.global_batch_size = n["global_batch_size"].as<int64_t>();
  o.val_every = n["val_every"].as<int64_t>();
  o.val_samples = n["val_samples"].as<int64_t>();
  o.device = n["device"].as<std::string>();
  o.precision = n["precision"].as<std::string>();
  o.deterministic = n["deterministic"].as<bool>();
  const YAML::Node target = n["target"];
  if (target["metric"]) o.target.metric = target["metric"].as<std::string>();
  o.target.value = target["value"] ? target["value"].as<double>() : std::nan("");
  o.target.mode = goal_from(target["mode"].as<std::string>());
  o.target.stop = target["stop"].as<bool>();
  const YAML::Node early = n["early_stopping"];
  if (early["metric"]) o.early_stopping.metric = early["metric"].as<std::string>();
  o.early_stopping.mode = goal_from(early["mode"].as<std::string>());
  o.early_stopping.patience = early["patience"].as<int64_t>();
  o.early_stopping.min_delta = early["min_delta"].as<double>();
  const YAML::Node best = n["best_checkpoint"];
  if (best["metric"]) o.best_checkpoint.metric = best["metric"].as<std::string>();
  o.best_checkpoint.mode = goal_from(best["mode"].as<std::string>());
  return o;
}

OptimOptions optim_options_from(const YAML::Node& n) {
  OptimOptions o;
  o.type = n["type"].as<std::string>();
  o.lr = n["lr"].as<double>();
  o.settings = YAML::Clone(n);
  o.lr_scaling = lr_scaling_from(n["lr_scaling"].as<std::string>());
  o.lr_base_workers = n["lr_base_workers"].as<int64_t>();
  o.warmup_steps = n["warmup_steps"].as<int64_t>();
  o.warmup_epochs = n["warmup_epochs"].as<double>();
  o.decay = lr_decay_from(n["decay"].as<std::string>());
  o.min_lr_factor = n["min_lr_factor"].as<double>();
  return o;
}

LrScaling lr_scaling_from(const std::string& word) {
  if (word == "none") return LrScaling::kNone;
  if (word == "linear") return LrScaling::kLinear;
  if (word == "sqrt") return LrScaling::kSqrt;
  throw BadInput(fmt::format("optim.lr_scaling: expected one of none, linear, sqrt, got '{}'", word));
}

LrDecay lr_decay_from(const std::string& word) {
  if (word == "constant") return LrDecay::kConstant;
  if (word == "cosine") return LrDecay::kCosine;
  throw BadInput(fmt::format("optim.decay: expected one of constant, cosine, got '{}'", word));
}

std::string to_string(LrScaling scaling) {
  switch (scaling) {
    case LrScaling::kNone: return "none";
    case LrScaling::kLinear: return "linear";
    case LrScaling::kSqrt: return "sqrt";
  }
  return "?";
}

std::string to_string(LrDecay decay) { return decay == LrDecay::kCosine ? "cosine" : "constant"; }

Goal goal_from(const std::string& word) {
  if (word == "min") return Goal::kMin;
  if (word == "max") return Goal::kMax;
  throw std::invalid_argument(fmt::format("expected min or max, got '{}'", word));
}

std::string to_string(Goal goal) { return goal == Goal::kMin ? "min" : "max"; }

}  // namespace tandem
