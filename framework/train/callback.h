#pragma once
/// Callbacks: what the training loop tells observers at each event, and what
/// an observer may ask of the loop (stop, write a checkpoint). The built-in
/// watchers (target, early stopping, best checkpoint) are callbacks like a
/// user's own; a callback runs on every rank and sees the same reduced metrics
/// there, so every rank takes the same decisions.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "framework/core/log.h"
#include "framework/train/position.h"
#include "framework/train/metrics_writer.h"

namespace tandem {

using MetricValues = std::map<std::string, double>;

/// A logged step: `loss` is the mean over every rank's samples since the
/// previous log step.
struct StepRecord {
  TrainingPosition position;
  double loss = 0.0;
  double samples_per_s = 0.0;
};

/// The end of an optimizer step on this rank. The loss stays on the training
/// device until asked for: `loss()` reads this rank's mean loss over the
/// step's samples, and waits for the device to get there. Call it during
/// on_step_end only: it refers to the step's own state.
struct StepEnd {
  TrainingPosition position;
  std::function<double()> loss;
};

/// The loop's state as a callback sees it, and its requests.
struct LoopContext {
  TrainingPosition position;  ///< after the last step taken
  double time_s = 0.0;        ///< since the first step of this run
  double eval_s = 0.0;        ///< of time_s, spent validating
  const RankZero* log = nullptr;
  MetricsWriter* metrics = nullptr;  ///< writes on rank 0 only
  /// Writes checkpoints/<as> positioned at `at` (where a resume from it goes
  /// on). A collective: every rank's callback calls it at the same event.
  std::function<void(const TrainingPosition& at, const std::string& as)> save_checkpoint;
  bool stop = false;  ///< set by a callback: training stops after this event
};

class Callback {
 public:
  virtual ~Callback() = default;
  /// After every optimizer step (no communication).
  virtual void on_step_end(const StepEnd& /*step*/, LoopContext& /*ctx*/) {}
  /// After each logged step, with the loss over all ranks.
  virtual void on_log_step(const StepRecord& /*step*/, LoopContext& /*ctx*/) {}
  /// After a validation: `val` holds `val_<metric>`; `resume_at` is where a
  /// checkpoint written now would resume (the next epoch at an epoch's end).
  virtual void on_validation(const MetricValues& /*val*/, const TrainingPosition& /*resume_at*/,
                             LoopContext& /*ctx*/) {}
  /// After each epoch, before its validation's `on_validation`; `metrics` holds
  /// `train_loss` and the validation's metrics.
  virtual void on_epoch_end(int64_t /*epoch*/, const MetricValues& /*metrics*/, LoopContext& /*ctx*/) {}
  /// After a checkpoint was written (on rank 0, the one that writes).
  virtual void on_checkpoint(const std::filesystem::path& /*path*/) {}
  /// Once the loop is left (finished, stopped or out of steps), before the final checkpoint.
  virtual void on_train_end(LoopContext& /*ctx*/) {}
};

}  // namespace tandem
