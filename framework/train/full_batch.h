#pragma once
/// Optional capabilities of a model, found by `tandem train` with
/// dynamic_cast like TextGenerator:
///  - DataAware: the model takes something from the loaded data before
///    training (its input width, standardisation statistics to keep with its
///    parameters);
///  - FullBatchFitter: the model fits itself with its own full-batch solver
///    (each worker on its shard, exchanging through the Communicator) instead
///    of the minibatch Trainer. logistic_regression with `solver: lbfgs` is one.
#include <optional>
#include <string>

#include "framework/dist/communicator.h"
#include "framework/train/dataset.h"
#include "framework/train/run_dir.h"
#include "framework/train/trainer.h"

namespace tandem {

class DataAware {
 public:
  virtual ~DataAware() = default;
  /// Called on every rank after the data is loaded and before training
  /// (and before DDP copies rank 0's parameters). BadInput if the data does not fit.
  virtual void prepare(const DataSplits& data) = 0;
};

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
