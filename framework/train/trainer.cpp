#include "framework/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/version.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/train/device.h"
#include "framework/train/distributed_sampler.h"
#include "framework/train/metrics_writer.h"
#include "framework/train/optimizer.h"
#include "framework/train/precision.h"
#include "framework/train/preemption.h"
#include "framework/train/progress.h"
#include "framework/train/schedule.h"
#include "framework/train/trainer_impl.h"
#include "framework/train/watchers.h"
#include "framework/train/weight_average.h"

namespace tandem {

using loop::Clock;
using loop::seconds;
using loop::since;

namespace {

/// The user's function hooks (Trainer::callbacks()) as one callback, first in the list.
class FunctionHooks : public Callback {
 public:
  explicit FunctionHooks(const Callbacks& hooks) : hooks_(hooks) {}
  void on_step_end(const StepEnd& step, LoopContext&) override {
    if (hooks_.after_step.empty()) return;  // reading the loss waits for the device
    const StepRecord record{step.position, step.loss(), 0.0};
    for (const auto& f : hooks_.after_step) f(record);
  }
  void on_log_step(const StepRecord& step, LoopContext&) override {
    for (const auto& f : hooks_.after_log_step) f(step);
  }
  void on_epoch_end(int64_t epoch, const MetricValues& metrics, LoopContext&) override {
    for (const auto& f : hooks_.after_epoch) f(epoch, metrics);
  }
  void on_checkpoint(const std::filesystem::path& path) override {
    for (const auto& f : hooks_.on_checkpoint) f(path);
  }

 private:
  const Callbacks& hooks_;
};

std::string join_metrics(const MetricValues& values) {
  std::string line;
  for (const auto& [name, value] : values) line += fmt::format("  {} {:.4f}", name, value);
  return line;
}

}  // namespace

Trainer::Impl::Impl(TrainerSetup& setup, const Callbacks& hooks)
    : s(setup),
      precision(setup.trainer.precision, setup.device),
      rank_zero(setup.comm->rank()),
      target(std::make_shared<TargetWatcher>(setup.trainer.target)),
      early(std::make_shared<EarlyStoppingWatcher>(setup.trainer.early_stopping)),
      best(std::make_shared<BestCheckpointWatcher>(setup.trainer.best_checkpoint)),
      callbacks{std::make_shared<FunctionHooks>(hooks), target, early, best} {
  s.model->prepare(*s.data.train);  // before DDP broadcasts and buckets the parameters
  // On the device before DDP captures the gradient accumulators and places
  // its buckets, and before the optimizer holds the parameters.
  s.model->to(s.device);
  train_data = on_device(s.data.train, s.device);
  val_data = on_device(s.data.val, s.device);
  window_loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(s.device));
  ddp = std::make_unique<ddp::DistributedDataParallel>(*s.model, *s.comm, s.ddp);
  optimizer = make_optimizer(s.optim, s.model->parameters());
  const bool writes = s.run_dir.has_value() && rank_zero.active();
  metrics = std::make_unique<MetricsWriter>(writes ? s.run_dir->metrics() : "", writes);
  ctx.log = &rank_zero;
  ctx.metrics = metrics.get();
  ctx.save_checkpoint = [this](const TrainingPosition& at, const std::string& as) { save(at, as); };
}

Trainer::Trainer(TrainerSetup setup) : s_(std::move(setup)) {
  if (!s_.model || !s_.data.train || s_.comm == nullptr) {
    throw std::invalid_argument("Trainer needs a model, a training split and a communicator");
  }
  impl_ = std::make_unique<Impl>(s_, callbacks_);
}

Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<Callback> callback) { impl_->callbacks.push_back(std::move(callback)); }

TrainResult Trainer::fit() { return impl_->fit(); }

MetricValues Trainer::evaluate(const Dataset& data, int64_t batch_size) {
  return evaluate_model(*s_.model, data, batch_size, *s_.comm);
}

SamplerOptions Trainer::Impl::sampler_options() const {
  SamplerOptions o;
  o.dataset_size = s.data.train->size();
  o.world_size = s.comm->size();
  o.rank = s.comm->rank();
  o.shuffle = true;
  o.seed = s.trainer.seed;
  return o;
}

RunPlan Trainer::Impl::make_plan() const {
  const TrainerOptions& t = s.trainer;
  RunPlan p;
  const int64_t per_rank = DistributedSampler(sampler_options()).per_rank();
  p.step_samples = t.batch_size * t.accumulate_steps;
  p.steps_per_epoch = (per_rank + p.step_samples - 1) / p.step_samples;
  p.planned = t.max_steps > 0 ? std::min(t.max_steps, p.steps_per_epoch * t.epochs) : p.steps_per_epoch * t.epochs;
  // The learning rate is a function of the global step alone, so a resumed
  // run (even inside warmup) continues with the rate it would have had.
  p.schedule = LrSchedule{learning_rate(s.optim), warmup_steps_for(s.optim, p.steps_per_epoch), p.planned, s.optim.decay,
                          s.optim.min_lr_factor};
  return p;
}

void Trainer::Impl::announce() const {
  const TrainerOptions& t = s.trainer;
  const LrSchedule& lr = plan.schedule;
  rank_zero.info("train", "{} workers x batch {}{} = global batch {}; {} training samples, {} steps per epoch, {} steps",
                 s.comm->size(), t.batch_size,
                 t.accumulate_steps > 1 ? fmt::format(" x {} accumulated", t.accumulate_steps) : std::string(),
                 plan.step_samples * s.comm->size(), s.data.train->size(), plan.steps_per_epoch, plan.planned);
  if (lr.warmup_steps > 0 || lr.decay != LrDecay::kConstant) {
    rank_zero.info("train", "learning rate {:g}{}{}", lr.peak,
                   lr.warmup_steps > 0 ? fmt::format(", warmup over {} steps", lr.warmup_steps) : "",
                   lr.decay == LrDecay::kCosine ? fmt::format(", cosine decay to {:g}", lr.peak * lr.min_lr_factor) : "");
  }
  if (average->enabled()) {
    rank_zero.info("train", "averaging the weights of steps {} to {} (trainer.average_weights_from {:g}); "
                   "validation and checkpoints use the mean from then on",
                   std::min(average->start_step() + 1, plan.planned), plan.planned, t.average_weights_from);
  }
  if (val_subset) {
    rank_zero.info("train", "validating on the first {} of {} validation samples (trainer.val_samples)",
                   val_subset->size(), s.data.val->size());
  }
}

void Trainer::Impl::write_start_record(const TrainingPosition& start_at) {
  const TrainerOptions& t = s.trainer;
  metrics->write({{"kind", "start"},
                  {"global_step", start_at.global_step},
                  {"resumed", s.resume_from.has_value()},
                  {"restart", s.restart_count},
                  {"world_size", s.comm->size()},
                  {"batch_size", t.batch_size},
                  {"global_batch", plan.step_samples * s.comm->size()},
                  {"lr", learning_rate(s.optim)},
                  {"warmup_steps", plan.schedule.warmup_steps},
                  {"steps_per_epoch", plan.steps_per_epoch},
                  {"planned_steps", plan.planned}});
}

TrainResult Trainer::Impl::fit() {
  const TrainerOptions& t = s.trainer;
  plan = make_plan();
  average = std::make_unique<WeightAverage>(s.model->parameters(),
                                            WeightAverage::start_step_for(t.average_weights_from, plan.planned));
  if (val_data && t.val_samples > 0 && t.val_samples < val_data->size()) val_subset.emplace(*val_data, t.val_samples);
  announce();
  require_validation_split(t, s.data.val != nullptr);
  TrainingPosition& pos = ctx.position;
  if (s.resume_from) pos = resume(*s.resume_from);
  const int64_t resumed_step = pos.global_step;
  write_start_record(pos);
  start = window_start = Clock::now();
  ddp_start = ddp->counters();
  s.model->train();

  const DistributedSampler sampler(sampler_options());
  bool inside_epoch = s.resume_from.has_value();  // a resumed run starts inside its epoch
  Outcome outcome = Outcome::kGoOn;
  for (; pos.epoch < t.epochs && pos.global_step < plan.planned; ++pos.epoch) {
    if (!inside_epoch) pos.step_in_epoch = 0;
    inside_epoch = false;
    outcome = run_epoch(sampler.indices(pos.epoch));
    if (outcome != Outcome::kGoOn) break;
  }
  if (outcome == Outcome::kPreempted) return result;
  notify([&](Callback& cb) { cb.on_train_end(ctx); });
  if (s.resume_from && pos.global_step == resumed_step) {
    rank_zero.info("train", "nothing to do: the checkpoint is already at step {} of {}", pos.global_step, plan.planned);
    s.comm->barrier()->wait();
    result.global_step = pos.global_step;
    return result;
  }
  // The final checkpoint records the position after the last step taken. A
  // stop left the loops without advancing the epoch; a finished epoch was
  // counted by the loop; max_steps stops inside an epoch.
  if (outcome != Outcome::kStop) {
    if (pos.step_in_epoch == plan.steps_per_epoch) {
      pos.step_in_epoch = 0;
    } else {
      --pos.epoch;
    }
  }
  save(pos);
  s.comm->barrier()->wait();  // nobody leaves (and rank 0 takes the store down) while a peer still works
  if (average->active()) average->swap();  // the trained model is the mean from here on, as its checkpoint
  return finish();
}

Outcome Trainer::Impl::run_epoch(const std::vector<int64_t>& order) {
  const TrainingPosition& pos = ctx.position;
  epoch_loss_sum = epoch_samples = 0.0;
  while (pos.step_in_epoch < plan.steps_per_epoch && pos.global_step < plan.planned) {
    const Outcome outcome = step(order);
    if (outcome == Outcome::kPreempted) return outcome;
    // A stop inside the epoch keeps the position where it is; at its last step the epoch ends first.
    if (outcome == Outcome::kStop && pos.step_in_epoch < plan.steps_per_epoch) return outcome;
    if (outcome == Outcome::kStop) break;
  }
  return end_epoch();
}

Outcome Trainer::Impl::step(const std::vector<int64_t>& order) {
  const TrainerOptions& t = s.trainer;
  TrainingPosition& pos = ctx.position;
  // Did any rank get a pre-emption notice? Reduced while the step computes;
  // every rank issues it at the same point, before the step's buckets.
  auto stop_flag = torch::full({1}, preemption_requested() ? 1.0 : 0.0, torch::kFloat64);
  auto stop_work = s.comm->allreduce(stop_flag, dist::ReduceOp::kMax);
  const auto indices = slice_indices(order, pos.step_in_epoch * plan.step_samples, plan.step_samples);
  const torch::Tensor loss_sum = train_step(indices);
  const auto step_size = static_cast<int64_t>(indices.size());
  ++pos.step_in_epoch;
  ++pos.global_step;
  average->update(pos.global_step);
  window_loss_sum += loss_sum;
  window_samples += step_size;
  const StepEnd end{pos, [&] { return loss_sum.item<double>() / static_cast<double>(step_size); }};
  notify([&](Callback& cb) { cb.on_step_end(end, ctx); });

  const bool last = pos.step_in_epoch == plan.steps_per_epoch || pos.global_step == plan.planned;
  if (pos.global_step % t.log_every == 0 || last) close_log_window();
  // Validation inside the epoch (the epoch's end validates in end_epoch).
  if (t.validate && s.data.val && t.val_every > 0 && pos.global_step % t.val_every == 0 &&
      pos.step_in_epoch < plan.steps_per_epoch) {
    validate_in_epoch();
  }
  if (t.checkpoint_every > 0 && pos.global_step % t.checkpoint_every == 0 && !last) save(pos);
  stop_work->wait();
  if (stop_flag.item<double>() > 0) {
    preempt();
    return Outcome::kPreempted;
  }
  // Every rank sees the same reduced metrics, so every rank stops here together.
  return ctx.stop ? Outcome::kStop : Outcome::kGoOn;
}

torch::Tensor Trainer::Impl::train_step(const std::vector<int64_t>& indices) {
  // The step's samples as accumulate_steps micro-batches; all but the last
  // backward accumulate locally, the last one all-reduces the sum.
  const int64_t batch_size = s.trainer.batch_size;
  const auto step_size = static_cast<int64_t>(indices.size());
  LossScaler* scaler = precision.scaler();
  ddp->zero_grad();
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(s.device));
  for (int64_t begin = 0; begin < step_size; begin += batch_size) {
    Batch batch = train_data->get(slice_indices(indices, begin, batch_size));
    std::optional<ddp::DistributedDataParallel::NoSync> no_sync;
    if (begin + batch_size < step_size) no_sync.emplace(ddp->reducer());
    ddp->before_forward();
    torch::Tensor loss;
    {
      const auto autocast = precision.autocast();
      loss = s.model->loss(batch, s.model->forward(batch));
    }
    ddp->prepare_for_backward({loss});
    // Weighted so the accumulated gradient is that of the mean over the step's samples.
    const torch::Tensor weighted = loss * (static_cast<double>(batch.size) / static_cast<double>(step_size));
    (scaler ? scaler->scaled(weighted) : weighted).backward();
    loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(batch.size);
  }
  // 16-mixed: a step whose reduced gradient overflowed is skipped on every rank.
  if (scaler && !scaler->unscale_and_update(ddp_gradients())) return loss_sum;
  if (s.trainer.grad_clip > 0) torch::nn::utils::clip_grad_norm_(s.model->parameters(), s.trainer.grad_clip);
  set_lr(*optimizer, plan.schedule.at(ctx.position.global_step));
  optimizer->step();
  return loss_sum;
}

std::vector<torch::Tensor> Trainer::Impl::ddp_gradients() const {
  std::vector<torch::Tensor> grads;
  for (const auto& p : s.model->parameters()) grads.push_back(p.grad());
  return grads;
}

void Trainer::Impl::close_log_window() {
  const TrainingPosition& pos = ctx.position;
  auto packed = torch::tensor({window_loss_sum.item<double>(), static_cast<double>(window_samples)}, torch::kFloat64);
  s.comm->allreduce(packed)->wait();
  const double global_samples = packed[1].item<double>();
  epoch_loss_sum += packed[0].item<double>();
  epoch_samples += global_samples;
  const StepRecord record{pos, packed[0].item<double>() / global_samples, global_samples / since(window_start)};
  samples_total += static_cast<int64_t>(global_samples);
  const double run_time = since(start);
  const double eta = run_time / static_cast<double>(pos.global_step) * static_cast<double>(plan.planned - pos.global_step);
  rank_zero.info("train", "{}", format_progress({pos.epoch + 1, s.trainer.epochs, pos.step_in_epoch,
                                                 plan.steps_per_epoch, record.loss, record.samples_per_s, eta}));
  const ddp::DdpCounters& c = ddp->counters();
  nlohmann::json step_record{{"kind", "step"},
                             {"epoch", pos.epoch + 1},
                             {"step", pos.step_in_epoch},
                             {"global_step", pos.global_step},
                             {"loss", record.loss},
                             {"samples", global_samples},
                             {"samples_per_s", record.samples_per_s},
                             {"lr", current_lr(*optimizer)},
                             {"time_s", run_time},
                             {"eval_s", ctx.eval_s},
                             {"ddp_comm_s", c.comm_s - ddp_start.comm_s},
                             {"ddp_exposed_comm_s", c.exposed_comm_s - ddp_start.exposed_comm_s},
                             {"ddp_buckets", c.buckets},
                             {"ddp_bytes_per_step", c.bytes_per_step}};
  if (const LossScaler* scaler = precision.scaler()) {
    step_record["loss_scale"] = scaler->state().scale;
    step_record["skipped_steps"] = scaler->state().skipped_steps;
  }
  metrics->write(step_record);
  result.last_loss = record.loss;
  notify([&](Callback& cb) { cb.on_log_step(record, ctx); });
  window_loss_sum.zero_();
  window_samples = 0;
  window_start = Clock::now();
}

MetricValues Trainer::Impl::validate() {
  // Every rank uses rank 0's buffers (BatchNorm statistics move on each rank's
  // own batches), the ones the checkpoint will hold.
  const auto eval_start = Clock::now();
  ddp->before_forward();
  s.model->refresh(*s.data.train);
  AveragedWeightsInModel averaged(*average);  // once averaging has begun, the mean is what is scored
  const Dataset& val = val_subset ? static_cast<const Dataset&>(*val_subset) : *val_data;
  MetricValues values;
  for (const auto& [name, value] : evaluate_model(*s.model, val, s.trainer.val_batch_size, *s.comm)) {
    values["val_" + name] = value;
  }
  const auto spent = Clock::now() - eval_start;
  ctx.eval_s += seconds(spent);
  window_start += spent;  // throughput windows leave the evaluation out
  return values;
}

void Trainer::Impl::validate_in_epoch() {
  const TrainingPosition& pos = ctx.position;
  const MetricValues values = validate();
  nlohmann::json record{{"kind", "eval"}, {"epoch", pos.epoch + 1}, {"step", pos.step_in_epoch},
                        {"global_step", pos.global_step}, {"time_s", since(start)}, {"eval_s", ctx.eval_s}};
  for (const auto& [name, value] : values) record[name] = value;
  metrics->write(record);
  rank_zero.info("train", "step {}:{}", pos.global_step, join_metrics(values));
  result.val_metrics = values;
  notify([&](Callback& cb) { cb.on_validation(values, pos, ctx); });
}

Outcome Trainer::Impl::end_epoch() {
  const TrainerOptions& t = s.trainer;
  TrainingPosition& pos = ctx.position;
  // Every step of the epoch fell in some log window (the last one closes at
  // the epoch's end), so this is the mean over all of the epoch's samples.
  MetricValues epoch_metrics{{"train_loss", epoch_samples > 0 ? epoch_loss_sum / epoch_samples : 0.0}};
  const bool validates = t.validate && s.data.val;
  MetricValues val;
  if (validates) {
    val = validate();
    epoch_metrics.insert(val.begin(), val.end());
    result.val_metrics = epoch_metrics;
    rank_zero.info("train", "epoch {}/{} done:{}", pos.epoch + 1, t.epochs, join_metrics(epoch_metrics));
  }
  nlohmann::json record{{"kind", "epoch"}, {"epoch", pos.epoch + 1}, {"global_step", pos.global_step},
                        {"time_s", since(start)}, {"eval_s", ctx.eval_s}};
  for (const auto& [name, value] : epoch_metrics) record[name] = value;
  metrics->write(record);
  const TrainingPosition next_epoch{pos.epoch + 1, 0, pos.global_step};
  notify([&](Callback& cb) { cb.on_epoch_end(pos.epoch + 1, epoch_metrics, ctx); });
  if (validates) notify([&](Callback& cb) { cb.on_validation(val, next_epoch, ctx); });
  // A checkpoint due on the epoch's last step is written here, after the
  // epoch's validation, positioned at the start of the next epoch.
  if (!ctx.stop && t.checkpoint_every > 0 && pos.global_step % t.checkpoint_every == 0 &&
      pos.global_step < plan.planned) {
    save(next_epoch);
  }
  if (!ctx.stop) return Outcome::kGoOn;
  pos = next_epoch;  // the epoch is complete: the position is the start of the next
  return Outcome::kStop;
}

void Trainer::Impl::preempt() {
  const TrainingPosition& pos = ctx.position;
  TrainingPosition at = pos;
  if (at.step_in_epoch == plan.steps_per_epoch) {  // an epoch just ended: resume at the next one
    ++at.epoch;
    at.step_in_epoch = 0;
  }
  save(at);
  rank_zero.info("train", "pre-empted after step {}: checkpoint written; continue with "
                 "tandem launch --resume <run directory>", pos.global_step);
  s.comm->barrier()->wait();
  result.preempted = true;
  result.global_step = pos.global_step;
  result.seconds = since(start);
  result.target_reached = target->reached();
  result.target_time_s = target->time_s();
  result.target_step = target->step();
  result.early_stopped = early->stopped();
}

TrainResult Trainer::Impl::finish() {
  const ddp::DdpCounters& c = ddp->counters();
  result.global_step = ctx.position.global_step;
  result.seconds = since(start);
  result.samples_per_s = static_cast<double>(samples_total) / result.seconds;
  result.eval_seconds = ctx.eval_s;
  result.target_reached = target->reached();
  result.target_time_s = target->time_s();
  result.target_step = target->step();
  result.early_stopped = early->stopped();
  metrics->write({{"kind", "end"},
                  {"global_step", result.global_step},
                  {"time_s", result.seconds},
                  {"eval_s", ctx.eval_s},
                  {"samples", samples_total},
                  {"samples_per_s", result.samples_per_s},
                  {"target_reached", result.target_reached},
                  {"early_stopped", result.early_stopped},
                  {"ddp_comm_s", c.comm_s - ddp_start.comm_s},
                  {"ddp_exposed_comm_s", c.exposed_comm_s - ddp_start.exposed_comm_s},
                  {"ddp_bytes_per_step", c.bytes_per_step},
                  {"ddp_buckets", c.buckets}});
  rank_zero.info("train", "finished {} steps in {}: {:.0f} samples/s", result.global_step,
                 format_duration(result.seconds), result.samples_per_s);
  return result;
}

}  // namespace tandem
