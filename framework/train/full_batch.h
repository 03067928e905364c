#pragma once
/// An optional capability of a model, found by `tandem train` with
/// dynamic_cast like TextGenerator: FullBatchFitter, a model that fits itself
/// with its own full-batch solver (each worker on its shard, exchanging through
/// the Communicator) instead of the minibatch Trainer. logistic_regression with
/// `solver: lbfgs` is one. `tandem train` calls Model::prepare(train) first, as
/// the Trainer would.
#include <optional>
#include <string>

#include "framework/core/run_dir.h"
#include "framework/dist/communicator.h"
#include "framework/train/dataset.h"
#include "framework/train/trainer.h"

namespace tandem {

struct FullBatchSetup {
  DataSplits data;
  dist::Communicator* comm = nullptr;
  std::optional<RunDir> run_dir;  ///< rank 0 only; no files are written without one
  std::string config_yaml;        ///< stored in the checkpoint
};

class FullBatchFitter {
 public:
  virtual ~FullBatchFitter() = default;
  /// Whether this model, as configured, wants the full-batch path.
  virtual bool fits_full_batch() const = 0;
  /// Fits on every rank together; rank 0 writes metrics.jsonl, the results and a checkpoint.
  virtual TrainResult fit_full_batch(const FullBatchSetup& setup) = 0;
};

}  // namespace tandem
