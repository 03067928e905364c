#pragma once
/// Where training stands, the state of a watched metric and of loss scaling:
/// the plain data that checkpoints, the loop and its callbacks share.
#include <cstdint>

namespace tandem {

struct TrainingPosition {
  int64_t epoch = 0;          ///< epoch in progress (0-based)
  int64_t step_in_epoch = 0;  ///< optimizer steps already taken in that epoch
  int64_t global_step = 0;    ///< optimizer steps taken in all
};

/// A validation metric watched across the run (early stopping, the best
/// checkpoint), saved with every checkpoint so a resumed run goes on from it.
struct WatchedMetric {
  bool has_best = false;
  double best = 0.0;          ///< the best value so far
  int64_t best_step = 0;      ///< the global step of that validation
  int64_t bad = 0;            ///< validations since, without improvement
};

/// Dynamic loss scaling (trainer.precision 16-mixed), saved with every
/// checkpoint so a resumed run scales its next step as it would have.
struct LossScale {
  double scale = 65536.0;        ///< the loss is multiplied by this before backward
  int64_t good_steps = 0;        ///< finite steps in a row since the scale last changed
  int64_t skipped_steps = 0;     ///< steps skipped for a non-finite gradient, over the run
};

}  // namespace tandem
