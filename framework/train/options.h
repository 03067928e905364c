#pragma once
/// The recipe's `trainer:` and `optim:` sections, as schemas and as the
/// options structs the trainer reads after validation.
#include <yaml-cpp/yaml.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "framework/recipe/schema.h"

namespace tandem {

/// Which way a watched metric is better: kMin, lower (the recipe's `min`);
/// kMax, higher (`max`).
enum class Goal { kMin, kMax };

struct TrainerOptions {
  int64_t epochs = 1;
  int64_t max_steps = 0;        ///< stop after this many optimizer steps in all; 0 = no limit
  int64_t batch_size = 32;      ///< per worker and micro-batch
  int64_t accumulate_steps = 1; ///< micro-batches per optimizer step (one allreduce per step)
  uint64_t seed = 0;
  int64_t log_every = 10;       ///< steps between progress lines / metrics records
  int64_t checkpoint_every = 0; ///< steps between checkpoints; 0 = only at the end
  int64_t keep_checkpoints = 2; ///< newest step checkpoints kept on disk
  double grad_clip = 0.0;       ///< max global gradient norm; 0 = off
  bool validate = true;         ///< evaluate the validation split after each epoch
  int64_t val_batch_size = 1024;
  int64_t samples_at_end = 10;  ///< text models: samples printed after training
  int64_t global_batch_size = 0;  ///< > 0: batch_size = this / (workers x accumulate_steps)
  int64_t val_every = 0;        ///< steps between validations inside an epoch; 0 = at epoch ends only
  int64_t val_samples = 0;      ///< validate on the first this many samples of the split; 0 = all
  std::string device = "auto";  ///< auto | cpu | cuda | cuda:N (framework/train/device.h)
  std::string precision = "32"; ///< 32 | bf16-mixed | 16-mixed, as Lightning names them
  bool deterministic = false;   ///< deterministic algorithms only (Lightning's deterministic=True)
  /// > 0: from this share of the planned steps on, a running mean of the
  /// weights after every step, which validation scores and checkpoints hold
  /// (weight_average.h); 0: off.
  double average_weights_from = 0.0;
  /// Stop (or just record) when a metric reaches a value: `loss` (the logged
  /// training loss) or `val_<name>` (a validation metric).
  struct Target {
    std::string metric;         ///< empty: no target
    double value = std::numeric_limits<double>::quiet_NaN();  ///< NaN: not given
    Goal mode = Goal::kMin;     ///< min: reached when metric <= value; max: when >=
    bool stop = true;
    bool reached(double v) const { return mode == Goal::kMin ? v <= value : v >= value; }
  } target;
  /// Stop when a validation metric has not improved for `patience`
  /// validations in a row (PyTorch Lightning's EarlyStopping).
  struct EarlyStopping {
    std::string metric;         ///< empty: off; else `val_<name>`
    Goal mode = Goal::kMin;     ///< min: lower is better; max: higher is better
    int64_t patience = 3;       ///< validations without improvement before stopping
    double min_delta = 0.0;     ///< an improvement must beat the best by more than this
    bool improves(double v, double best) const { return mode == Goal::kMin ? v < best - min_delta : v > best + min_delta; }
  } early_stopping;
  /// Keep the checkpoint of the best validation so far as checkpoints/best.pt
  /// (PyTorch Lightning's ModelCheckpoint with a monitored metric).
  struct BestCheckpoint {
    std::string metric;         ///< empty: off; else `val_<name>`
    Goal mode = Goal::kMin;     ///< min: lower is better; max: higher is better
    bool improves(double v, double best) const { return mode == Goal::kMin ? v < best : v > best; }
  } best_checkpoint;
};

/// How `optim.lr` scales with the number of workers N (relative to lr_base_workers).
enum class LrScaling { kNone, kLinear, kSqrt };
/// What the learning rate does after warmup.
enum class LrDecay { kConstant, kCosine };

struct OptimOptions {
  std::string type = "adam";  ///< a registered optimizer (optimizer_registry.h)
  /// The learning rate; unset (options built in code), the optimizer's own
  /// default, its `lr` key's (learning_rate() resolves it).
  std::optional<double> lr;
  /// The resolved `optim:` section, which the optimizer's factory reads its own
  /// keys from (betas, momentum, ...). Left empty (options built in code), the
  /// optimizer takes its schema's defaults.
  YAML::Node settings;
  LrScaling lr_scaling = LrScaling::kNone;  ///< in workers relative to lr_base_workers
  int64_t lr_base_workers = 1;
  int64_t warmup_steps = 0;
  double warmup_epochs = 0.0;
  LrDecay decay = LrDecay::kConstant;  ///< after warmup
  double min_lr_factor = 0.0;          ///< cosine decays to lr x this
};

/// The recipe's spelling of each mode ("none", "linear", "sqrt"; "constant",
/// "cosine"), and back: BadInput naming the optim key for any other word.
LrScaling lr_scaling_from(const std::string& word);
LrDecay lr_decay_from(const std::string& word);
std::string to_string(LrScaling scaling);
std::string to_string(LrDecay decay);
Goal goal_from(const std::string& word);  ///< "min" or "max"; std::invalid_argument otherwise
std::string to_string(Goal goal);

/// `options.lr`, or the default of the optimizer `options.type` names.
double learning_rate(const OptimOptions& options);

recipe::Section trainer_schema();
recipe::Section optim_schema();

TrainerOptions trainer_options_from(const YAML::Node& resolved_trainer_section);
OptimOptions optim_options_from(const YAML::Node& resolved_optim_section);

}  // namespace tandem
