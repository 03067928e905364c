#include "framework/train/watchers.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/core/error.h"
#include "framework/train/progress.h"

namespace tandem {
namespace {

/// The watched metric's value among a validation's metrics. BadInput, naming
/// the key and the metrics there are, when the model has no such metric.
double watched_value(const MetricValues& val, const std::string& key, const std::string& metric) {
  const auto it = val.find(metric);
  if (it != val.end()) return it->second;
  std::string names = key == "target" ? "loss" : "";  // only a target may watch the training loss
  for (const auto& kv : val) names += (names.empty() ? "" : ", ") + kv.first;
  throw BadInput(
      fmt::format("trainer.{}.metric: expected one of {} (this model's metrics), got '{}'", key, names, metric));
}

}  // namespace

void require_validation_split(const TrainerOptions& t, bool has_validation) {
  if (has_validation) return;
  const std::pair<const char*, const std::string*> watched[] = {
      {"target", &t.target.metric}, {"early_stopping", &t.early_stopping.metric},
      {"best_checkpoint", &t.best_checkpoint.metric}};
  for (const auto& [key, metric] : watched) {
    if (metric->rfind("val_", 0) == 0) {
      throw BadInput(fmt::format("trainer.{}.metric: expected a data set with a validation split for '{}', got "
                                 "none (the data section holds out no rows)",
                                 key, *metric));
    }
  }
}

void TargetWatcher::on_log_step(const StepRecord& step, LoopContext& ctx) { check("loss", step.loss, ctx); }

void TargetWatcher::on_validation(const MetricValues& val, const TrainingPosition&, LoopContext& ctx) {
  if (rule_.metric.empty() || rule_.metric == "loss") return;
  check(rule_.metric, watched_value(val, "target", rule_.metric), ctx);
}

void TargetWatcher::check(const std::string& metric, double value, LoopContext& ctx) {
  if (reached_ || rule_.metric != metric || !rule_.reached(value)) return;
  reached_ = true;
  time_s_ = ctx.time_s;
  step_ = ctx.position.global_step;
  ctx.log->info("train", "target reached: {} {:.4f} ({} {:g}) at step {} after {}", metric, value,
                rule_.mode == Goal::kMin ? "<=" : ">=", rule_.value, step_, format_duration(time_s_));
  ctx.metrics->write({{"kind", "target"},
                      {"metric", metric},
                      {"value", value},
                      {"target", rule_.value},
                      {"global_step", step_},
                      {"epoch", ctx.position.epoch + 1},
                      {"time_s", time_s_},
                      {"eval_s", ctx.eval_s}});
  if (rule_.stop) ctx.stop = true;
}

void TargetWatcher::on_train_end(LoopContext& ctx) {
  if (rule_.metric.empty() || reached_) return;
  ctx.log->info("train", "target not reached: {} {} {:g}", rule_.metric, rule_.mode == Goal::kMin ? "<=" : ">=",
                rule_.value);
}

void EarlyStoppingWatcher::on_validation(const MetricValues& val, const TrainingPosition&, LoopContext& ctx) {
  if (rule_.metric.empty()) return;
  const double value = watched_value(val, "early_stopping", rule_.metric);
  if (!std::isnan(value) && (!state_.has_best || rule_.improves(value, state_.best))) {
    state_ = {true, value, ctx.position.global_step, 0};
    return;
  }
  if (++state_.bad < rule_.patience) return;
  stopped_ = true;
  ctx.stop = true;
  ctx.log->info("train", "early stopping: {} has not improved on {:.4f} (step {}) for {} validation{}", rule_.metric,
                state_.best, state_.best_step, state_.bad, state_.bad == 1 ? "" : "s");
  ctx.metrics->write({{"kind", "early_stop"},
                      {"metric", rule_.metric},
                      {"best", state_.best},
                      {"best_step", state_.best_step},
                      {"validations_without_improvement", state_.bad},
                      {"global_step", ctx.position.global_step},
                      {"epoch", ctx.position.epoch + 1},
                      {"time_s", ctx.time_s},
                      {"eval_s", ctx.eval_s}});
}

void BestCheckpointWatcher::on_validation(const MetricValues& val, const TrainingPosition& resume_at,
                                          LoopContext& ctx) {
  if (rule_.metric.empty()) return;
  const double value = watched_value(val, "best_checkpoint", rule_.metric);
  if (std::isnan(value) || (state_.has_best && !rule_.improves(value, state_.best))) return;
  state_ = {true, value, ctx.position.global_step, 0};
  ctx.save_checkpoint(resume_at, "best.pt");
  ctx.metrics->write({{"kind", "best_checkpoint"},
                      {"metric", rule_.metric},
                      {"value", value},
                      {"global_step", ctx.position.global_step},
                      {"epoch", ctx.position.epoch + 1}});
}

}  // namespace tandem
