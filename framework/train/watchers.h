#pragma once
/// The built-in callbacks that watch a metric: the target (time to reach a
/// value), early stopping (Lightning's EarlyStopping) and the best checkpoint
/// (Lightning's ModelCheckpoint with a monitored metric). Each acts on the
/// metrics a LoopContext event hands it, so each is tested without a fit.
#include "framework/train/callback.h"
#include "framework/train/options.h"

namespace tandem {

/// BadInput, naming the recipe key, when a watched `val_` metric has no
/// validation split to come from.
void require_validation_split(const TrainerOptions& trainer, bool has_validation);

/// trainer.target: records the first time `loss` (at a log step) or a
/// validation metric reaches the value; asks to stop when `stop` is set.
class TargetWatcher : public Callback {
 public:
  explicit TargetWatcher(TrainerOptions::Target rule) : rule_(std::move(rule)) {}
  void on_log_step(const StepRecord& step, LoopContext& ctx) override;
  void on_validation(const MetricValues& val, const TrainingPosition& resume_at, LoopContext& ctx) override;
  void on_train_end(LoopContext& ctx) override;

  bool reached() const { return reached_; }
  double time_s() const { return time_s_; }  ///< from the first step to reaching it
  int64_t step() const { return step_; }

 private:
  void check(const std::string& metric, double value, LoopContext& ctx);

  TrainerOptions::Target rule_;
  bool reached_ = false;
  double time_s_ = 0.0;
  int64_t step_ = 0;
};

/// trainer.early_stopping: counts validations without improvement and asks to
/// stop after `patience` of them. Its state goes into every checkpoint.
class EarlyStoppingWatcher : public Callback {
 public:
  explicit EarlyStoppingWatcher(TrainerOptions::EarlyStopping rule) : rule_(std::move(rule)) {}
  void on_validation(const MetricValues& val, const TrainingPosition& resume_at, LoopContext& ctx) override;

  bool stopped() const { return stopped_; }
  const WatchedMetric& state() const { return state_; }
  void restore(const WatchedMetric& state) { state_ = state; }

 private:
  TrainerOptions::EarlyStopping rule_;
  WatchedMetric state_;
  bool stopped_ = false;
};

/// trainer.best_checkpoint: writes checkpoints/best.pt whenever the watched
/// metric improves. Its best value goes into every checkpoint.
class BestCheckpointWatcher : public Callback {
 public:
  explicit BestCheckpointWatcher(TrainerOptions::BestCheckpoint rule) : rule_(std::move(rule)) {}
  void on_validation(const MetricValues& val, const TrainingPosition& resume_at, LoopContext& ctx) override;

  const WatchedMetric& state() const { return state_; }
  void restore(const WatchedMetric& state) { state_ = state; }

 private:
  TrainerOptions::BestCheckpoint rule_;
  WatchedMetric state_;
};

}  // namespace tandem
