#pragma once
/// Trainer::Impl, the training loop's state and steps, shared by trainer.cpp
/// (the loop) and trainer_checkpoints.cpp (saving and resuming). Internal to
/// tandem_train: not installed.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "framework/core/log.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/train/distributed_sampler.h"
#include "framework/train/evaluate.h"
#include "framework/train/metrics_writer.h"
#include "framework/train/precision.h"
#include "framework/train/schedule.h"
#include "framework/train/trainer.h"
#include "framework/train/watchers.h"
#include "framework/train/weight_average.h"

namespace tandem {

namespace loop {
using Clock = std::chrono::steady_clock;

inline double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
inline double since(Clock::time_point start) { return seconds(Clock::now() - start); }

/// The run's shape, fixed when fit starts.
struct RunPlan {
  int64_t step_samples = 0;     ///< per rank and optimizer step
  int64_t steps_per_epoch = 0;
  int64_t planned = 0;          ///< optimizer steps in all
  LrSchedule schedule;
};

/// How a step or an epoch left the loop.
enum class Outcome { kGoOn, kStop, kPreempted };
}  // namespace loop
using loop::Outcome;
using loop::RunPlan;

struct Trainer::Impl {
  Impl(TrainerSetup& setup, const Callbacks& hooks);

  TrainResult fit();
  /// A checkpoint at `at`: checkpoints/step-<N>.pt, or `as` when given (not
  /// pruned). A collective: every rank calls it.
  void save(const TrainingPosition& at, const std::string& as = "");

  TrainerSetup& s;
  MixedPrecision precision;
  std::shared_ptr<Dataset> train_data;  ///< the splits as the loop reads them, on the device
  std::shared_ptr<Dataset> val_data;
  std::unique_ptr<ddp::DistributedDataParallel> ddp;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<MetricsWriter> metrics;
  /// trainer.average_weights_from: made when fit plans the run.
  std::unique_ptr<WeightAverage> average;
  RankZero rank_zero;
  std::shared_ptr<TargetWatcher> target;
  std::shared_ptr<EarlyStoppingWatcher> early;  ///< its state is saved with every checkpoint
  std::shared_ptr<BestCheckpointWatcher> best;  ///< likewise
  std::vector<std::shared_ptr<Callback>> callbacks;  ///< in call order: hooks, watchers, the user's

 private:
  SamplerOptions sampler_options() const;
  RunPlan make_plan() const;
  void announce() const;
  void write_start_record(const TrainingPosition& start_at);
  TrainingPosition resume(const std::filesystem::path& path);
  /// Every rank's `mine` (flattened), row r for rank r, on every rank: a collective.
  torch::Tensor gather_rows(const torch::Tensor& mine) const;
  Outcome run_epoch(const std::vector<int64_t>& order);
  Outcome step(const std::vector<int64_t>& order);
  /// One optimizer step; returns this rank's loss summed over the step's samples, on the device.
  torch::Tensor train_step(const std::vector<int64_t>& indices);
  std::vector<torch::Tensor> ddp_gradients() const;
  void close_log_window();
  MetricValues validate();
  void validate_in_epoch();
  Outcome end_epoch();
  void preempt();
  TrainResult finish();
  /// Calls `event` on every callback, with the context's clock brought up to date.
  template <typename Event>
  void notify(Event&& event) {
    ctx.time_s = loop::since(start);
    for (const auto& cb : callbacks) event(*cb);
  }

  // The state of one fit.
  RunPlan plan;
  std::optional<FirstSamples> val_subset;
  LoopContext ctx;  ///< holds the position
  TrainResult result;
  loop::Clock::time_point start, window_start;
  int64_t samples_total = 0;
  torch::Tensor window_loss_sum;  ///< this rank's, since the last log step, float64 on the device
  int64_t window_samples = 0;
  double epoch_loss_sum = 0.0;   ///< over all ranks, from the closed log windows
  double epoch_samples = 0.0;
  ddp::DdpCounters ddp_start;
};

}  // namespace tandem
