#pragma once
/// The training loop a recipe runs: sharded batches, DDP, optimizer steps,
/// logging and metrics from rank 0, validation, checkpoints, and callbacks —
/// the built-in watchers (target, early stopping, best checkpoint) and the
/// user's own.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framework/core/run_dir.h"
#include "framework/ddp/options.h"
#include "framework/dist/communicator.h"
#include "framework/train/callback.h"
#include "framework/train/checkpoint.h"
#include "framework/train/dataset.h"
#include "framework/train/evaluate.h"
#include "framework/train/model.h"
#include "framework/train/options.h"

namespace tandem {

/// Named function hooks, for behaviour that needs no class of its own. They
/// run on every rank; use RankZero inside for output.
struct Callbacks {
  /// After every optimizer step; `loss` is this rank's batch loss (no communication).
  std::vector<std::function<void(const StepRecord&)>> after_step;
  /// After each logged step; `loss` is the mean over all ranks' samples.
  std::vector<std::function<void(const StepRecord&)>> after_log_step;
  std::vector<std::function<void(int64_t epoch, const MetricValues&)>> after_epoch;
  std::vector<std::function<void(const std::filesystem::path&)>> on_checkpoint;
};

struct TrainResult {
  int64_t global_step = 0;
  double seconds = 0.0;
  double samples_per_s = 0.0;  ///< global, over the whole run
  double last_loss = 0.0;      ///< the last logged training loss
  MetricValues val_metrics;    ///< from the last validation, if any
  bool preempted = false;      ///< stopped early by a pre-emption notice, after a checkpoint
  double eval_seconds = 0.0;   ///< of `seconds`, spent validating
  bool target_reached = false; ///< trainer.target was reached (then target_* are set)
  double target_time_s = 0.0;  ///< seconds from the first step to reaching the target
  int64_t target_step = 0;
  bool early_stopped = false;  ///< trainer.early_stopping ended the run
};

struct TrainerSetup {
  std::shared_ptr<Model> model;
  DataSplits data;
  dist::Communicator* comm = nullptr;
  TrainerOptions trainer;
  OptimOptions optim;
  ddp::DdpOptions ddp;
  std::optional<RunDir> run_dir;  ///< no files are written without one
  std::string config_yaml;        ///< stored in checkpoints
  /// Continue from this checkpoint: model, optimizer, every rank's RNG and
  /// the position (epoch, step within it). Every rank reads the file.
  std::optional<std::filesystem::path> resume_from;
  int restart_count = 0;  ///< the launcher's restarts so far; recorded in metrics.jsonl
  /// Where this rank computes: trainer.device resolved (resolve_device in
  /// framework/train/device.h) and made current before joining the world.
  /// The model, its optimizer state and every batch live there.
  torch::Device device = torch::kCPU;
};

class Trainer {
 public:
  explicit Trainer(TrainerSetup setup);
  ~Trainer();

  Callbacks& callbacks() { return callbacks_; }
  /// Adds a callback after the built-in ones; it sees every event of `fit`.
  void add_callback(std::shared_ptr<Callback> callback);
  TrainResult fit();

  /// Metrics over all of `data`, each rank evaluating its own share (no sample
  /// twice), reduced across ranks. Keys are the model's metric names.
  MetricValues evaluate(const Dataset& data, int64_t batch_size);

 private:
  TrainerSetup s_;
  Callbacks callbacks_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
