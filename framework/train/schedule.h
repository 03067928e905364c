#pragma once
/// Learning-rate scaling and schedules, as plain functions of the world size
/// and the global step. Nothing here has state: a resumed run recomputes the
/// learning rate of its next step from the step number alone, so a resume in
/// the middle of warmup continues exactly where it stopped.
#include <cstdint>
#include <string>

#include "framework/train/options.h"

namespace tandem {

/// What the recipe's scaling rules resolve to for one world size.
struct ResolvedScaling {
  double lr = 0.0;              ///< the peak learning rate after scaling
  int64_t batch_size = 0;       ///< per worker and micro-batch
  int64_t global_batch = 0;     ///< batch_size x accumulate_steps x world size
  double lr_factor = 1.0;       ///< lr / optim.lr
  std::string describe() const; ///< "lr 0.004 (linear: 0.002 x 2/1 workers), batch 256 per worker, global 512"
};

/// Applies `optim.lr_scaling` and `trainer.global_batch_size` for `world_size`
/// workers. BadInput (naming the keys) when the global batch does not divide
/// evenly by the workers and accumulation steps.
ResolvedScaling resolve_scaling(const TrainerOptions& trainer, const OptimOptions& optim, int world_size);

/// What is wrong with `global_batch_size` for `world_size` workers ("expected a
/// multiple of ..., got ..."), or "" when it divides evenly (or is 0: off).
std::string global_batch_problem(int64_t global_batch_size, int64_t world_size, int64_t accumulate_steps);

/// The learning rate of the step that follows `step` completed steps: linear
/// warmup from peak/warmup to peak over `warmup_steps`, then constant or a
/// cosine decay to peak x min_lr_factor at `total_steps`.
struct LrSchedule {
  double peak = 1e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  LrDecay decay = LrDecay::kConstant;
  double min_lr_factor = 0.0;

  double at(int64_t step) const;
};

/// Warmup in steps: `optim.warmup_steps`, or `optim.warmup_epochs` x steps per epoch (rounded).
int64_t warmup_steps_for(const OptimOptions& optim, int64_t steps_per_epoch);

}  // namespace tandem
