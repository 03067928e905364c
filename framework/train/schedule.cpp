#include "framework/train/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"

namespace tandem {

std::string ResolvedScaling::describe() const {
  return fmt::format("lr {:g}, batch {} per worker, global batch {}", lr, batch_size, global_batch);
}

ResolvedScaling resolve_scaling(const TrainerOptions& t, const OptimOptions& o, int world_size) {
  if (world_size < 1) throw std::invalid_argument("resolve_scaling: world size must be at least 1");
  ResolvedScaling r;
  const double ratio = static_cast<double>(world_size) / static_cast<double>(o.lr_base_workers);
  switch (o.lr_scaling) {
    case LrScaling::kNone: break;
    case LrScaling::kLinear: r.lr_factor = ratio; break;
    case LrScaling::kSqrt: r.lr_factor = std::sqrt(ratio); break;
  }
  r.lr = learning_rate(o) * r.lr_factor;
  r.batch_size = t.batch_size;
  if (t.global_batch_size > 0) {
    const auto problem = global_batch_problem(t.global_batch_size, world_size, t.accumulate_steps);
    if (!problem.empty()) throw BadInput("trainer.global_batch_size: " + problem);
    r.batch_size = t.global_batch_size / (static_cast<int64_t>(world_size) * t.accumulate_steps);
  }
  r.global_batch = r.batch_size * t.accumulate_steps * world_size;
  return r;
}

std::string global_batch_problem(int64_t global_batch_size, int64_t world_size, int64_t accumulate_steps) {
  const int64_t parts = world_size * accumulate_steps;
  if (global_batch_size == 0 || global_batch_size % parts == 0) return "";
  return fmt::format("expected a multiple of {} ({} workers x {} accumulate_steps) so every worker gets the same "
                     "batch, got {}",
                     parts, world_size, accumulate_steps, global_batch_size);
}

double LrSchedule::at(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) {
    return peak * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  }
  if (decay == LrDecay::kCosine) {
    const int64_t span = std::max<int64_t>(1, total_steps - warmup_steps);
    const double progress = std::clamp(static_cast<double>(step - warmup_steps) / static_cast<double>(span), 0.0, 1.0);
    const double pi = std::acos(-1.0);
    return peak * (min_lr_factor + (1.0 - min_lr_factor) * 0.5 * (1.0 + std::cos(pi * progress)));
  }
  return peak;
}

int64_t warmup_steps_for(const OptimOptions& o, int64_t steps_per_epoch) {
  if (o.warmup_steps > 0) return o.warmup_steps;
  return static_cast<int64_t>(std::llround(o.warmup_epochs * static_cast<double>(steps_per_epoch)));
}

}  // namespace tandem
