#include "framework/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/version.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/train/distributed_sampler.h"
#include "framework/train/metrics_writer.h"
#include "framework/train/preemption.h"
#include "framework/train/optimizer.h"
#include "framework/train/progress.h"
#include "framework/train/schedule.h"

namespace tandem {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<int64_t> slice(const std::vector<int64_t>& all, int64_t begin, int64_t count) {
  auto first = all.begin() + begin;
  return std::vector<int64_t>(first, first + std::min<int64_t>(count, static_cast<int64_t>(all.size()) - begin));
}

/// The first `n` samples of a data set.
class FirstSamples : public Dataset {
 public:
  FirstSamples(const Dataset& base, int64_t n) : base_(base), n_(std::min(n, base.size())) {}
  int64_t size() const override { return n_; }
  Batch get(const std::vector<int64_t>& indices) const override { return base_.get(indices); }

 private:
  const Dataset& base_;
  int64_t n_;
};

}  // namespace

struct Trainer::Impl {
  std::unique_ptr<ddp::DistributedDataParallel> ddp;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<MetricsWriter> metrics;
  RankZero rank_zero{0};
  WatchedMetric early;  ///< saved with every checkpoint, restored on resume
  WatchedMetric best;   ///< the best checkpoint's metric, likewise
};

MetricValues evaluate_model(Model& model, const Dataset& data, int64_t batch_size, dist::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  // Rank r evaluates positions r, r + N, ...: every sample exactly once.
  std::vector<int64_t> mine;
  for (int64_t i = comm.rank(); i < data.size(); i += comm.size()) mine.push_back(i);
  MetricSums totals;
  std::vector<torch::Tensor> rows;  // this rank's whole-set metric rows, in the order of `mine`
  for (int64_t begin = 0; begin < static_cast<int64_t>(mine.size()); begin += batch_size) {
    Batch batch = data.get(slice(mine, begin, batch_size));
    torch::Tensor out = model.forward(batch);
    for (const auto& [name, m] : model.metrics(batch, out)) {
      totals[name].sum += m.sum;
      totals[name].weight += m.weight;
    }
    torch::Tensor r = model.metric_rows(batch, out);
    if (r.defined()) rows.push_back(r.to(torch::kFloat64));
  }
  torch::Tensor probe_rows;
  if (totals.empty()) {
    // A rank without samples still takes part in the reductions below, with zeros.
    Batch probe = data.get({0});
    torch::Tensor out = model.forward(probe);
    for (const auto& kv : model.metrics(probe, out)) totals[kv.first] = {};
    probe_rows = model.metric_rows(probe, out);
  }
  auto packed = torch::zeros({static_cast<int64_t>(2 * totals.size())}, torch::kFloat64);
  int64_t k = 0;
  for (const auto& kv : totals) {
    packed[k++] = kv.second.sum;
    packed[k++] = kv.second.weight;
  }
  comm.allreduce(packed)->wait();
  MetricValues values;
  k = 0;
  for (const auto& kv : totals) {
    const double sum = packed[k++].item<double>();
    const double weight = packed[k++].item<double>();
    values[kv.first] = weight > 0 ? sum / weight : 0.0;
  }
  // Whole-set metrics: each rank writes its rows at their dataset positions
  // into a zero matrix, so one sum-allreduce gives every rank all the rows in
  // dataset order (the shards do not overlap).
  const torch::Tensor& shape_source = rows.empty() ? probe_rows : rows.front();
  if (shape_source.defined()) {
    auto all = torch::zeros({data.size(), shape_source.size(1)}, torch::kFloat64);
    if (!rows.empty()) all.index_copy_(0, torch::tensor(mine, torch::kInt64), torch::cat(rows));
    comm.allreduce(all)->wait();
    for (const auto& [name, value] : model.whole_set_metrics(all)) values[name] = value;
  }
  if (was_training) model.train();
  return values;
}

Trainer::Trainer(TrainerSetup setup) : s_(std::move(setup)), impl_(std::make_unique<Impl>()) {
  if (!s_.model || !s_.data.train || s_.comm == nullptr) {
    throw std::invalid_argument("Trainer needs a model, a training split and a communicator");
  }
  impl_->rank_zero = RankZero(s_.comm->rank());
  s_.model->prepare(*s_.data.train);  // before DDP broadcasts and buckets the parameters
  impl_->ddp = std::make_unique<ddp::DistributedDataParallel>(*s_.model, *s_.comm, s_.ddp);
  impl_->optimizer = make_optimizer(s_.optim, s_.model->parameters());
  const bool writes = s_.run_dir.has_value() && impl_->rank_zero.active();
  impl_->metrics = std::make_unique<MetricsWriter>(writes ? s_.run_dir->metrics() : "", writes);
}

Trainer::~Trainer() = default;

void Trainer::save(const TrainingPosition& position, const std::string& as) {
  // Every rank's generator state goes into the checkpoint (ranks draw
  // different dropout masks): a collective, so every rank comes here.
  auto rng = at::detail::getDefaultCPUGenerator().get_state();
  torch::Tensor rng_ranks = torch::empty({s_.comm->size(), rng.numel()}, rng.options());
  auto rows = rng_ranks.unbind(0);
  s_.comm->allgather(rows, rng)->wait();
  if (!s_.run_dir || !impl_->rank_zero.active()) return;
  s_.model->refresh(*s_.data.train);
  const auto path = as.empty() ? checkpoint_path(s_.run_dir->checkpoints(), position.global_step)
                               : s_.run_dir->checkpoints() / as;
  CheckpointInfo info{position, s_.config_yaml, TANDEM_VERSION, s_.comm->size(), rng_ranks, impl_->early,
                      impl_->best};
  save_checkpoint(path, *s_.model, impl_->optimizer.get(), info);
  if (as.empty()) prune_checkpoints(s_.run_dir->checkpoints(), s_.trainer.keep_checkpoints);
  impl_->rank_zero.info("train", "checkpoint {}", path.string());
  for (auto& cb : callbacks_.on_checkpoint) cb(path);
}

TrainingPosition Trainer::resume(const std::filesystem::path& checkpoint, int64_t steps_per_epoch) {
  const CheckpointInfo info = read_checkpoint_info(checkpoint);
  if (info.position.step_in_epoch >= steps_per_epoch) {
    throw BadInput(fmt::format("{}: step {} of an epoch, but this recipe has {} steps per epoch; the data or batch "
                               "size changed since the checkpoint",
                               checkpoint.string(), info.position.step_in_epoch, steps_per_epoch));
  }
  impl_->early = info.early_stopping;
  impl_->best = info.best_checkpoint;
  load_model_state(checkpoint, *s_.model);
  const bool exact = load_training_state(checkpoint, *impl_->optimizer, s_.comm->rank());
  const RankZero& rank_zero = impl_->rank_zero;
  rank_zero.info("train", "resuming from {}: epoch {}, step {} of the epoch, global step {}", checkpoint.string(),
                 info.position.epoch + 1, info.position.step_in_epoch, info.position.global_step);
  if (info.world_size != s_.comm->size()) {
    if (rank_zero.active()) log_warn("train", "the checkpoint was written by {} workers, this run has {}: the data is sharded "
                   "differently, so training continues but not bit for bit as it would have", info.world_size,
                   s_.comm->size());
  } else if (!exact) {
    log_warn("train", "rank {}: the checkpoint holds no random state for this rank; dropout continues from rank 0's",
             s_.comm->rank());
  }
  return info.position;
}

MetricValues Trainer::evaluate(const Dataset& data, int64_t batch_size) {
  return evaluate_model(*s_.model, data, batch_size, *s_.comm);
}

TrainResult Trainer::fit() {
  const TrainerOptions& t = s_.trainer;
  dist::Communicator& comm = *s_.comm;
  Model& model = *s_.model;
  auto& ddp = *impl_->ddp;
  auto& optimizer = *impl_->optimizer;
  const RankZero& rank_zero = impl_->rank_zero;

  DistributedSampler sampler({s_.data.train->size(), comm.size(), comm.rank(), /*shuffle=*/true, t.seed});
  const int64_t per_rank = sampler.per_rank();
  const int64_t step_samples = t.batch_size * t.accumulate_steps;  // per rank and optimizer step
  const int64_t steps_per_epoch = (per_rank + step_samples - 1) / step_samples;
  const int64_t planned = t.max_steps > 0 ? std::min(t.max_steps, steps_per_epoch * t.epochs) : steps_per_epoch * t.epochs;
  rank_zero.info("train", "{} workers x batch {}{} = global batch {}; {} training samples, {} steps per epoch, {} steps",
                 comm.size(), t.batch_size,
                 t.accumulate_steps > 1 ? fmt::format(" x {} accumulated", t.accumulate_steps) : std::string(),
                 step_samples * comm.size(), s_.data.train->size(), steps_per_epoch, planned);

  // The learning rate is a function of the global step alone, so a resumed
  // run (even inside warmup) continues with the rate it would have had.
  const LrSchedule schedule{s_.optim.lr, warmup_steps_for(s_.optim, steps_per_epoch), planned, s_.optim.decay,
                            s_.optim.min_lr_factor};
  if (schedule.warmup_steps > 0 || schedule.decay != "constant") {
    rank_zero.info("train", "learning rate {:g}{}{}", schedule.peak,
                   schedule.warmup_steps > 0 ? fmt::format(", warmup over {} steps", schedule.warmup_steps) : "",
                   schedule.decay == "cosine" ? fmt::format(", cosine decay to {:g}", schedule.peak * schedule.min_lr_factor)
                                              : "");
  }

  // The metrics the run watches, by recipe key: each must exist, and a val_ one needs a validation split.
  const std::vector<std::pair<std::string, std::string>> watched{{"target", t.target.metric},
                                                                 {"early_stopping", t.early_stopping.metric},
                                                                 {"best_checkpoint", t.best_checkpoint.metric}};
  if (!s_.data.val) {
    for (const auto& [key, metric] : watched) {
      if (metric.rfind("val_", 0) == 0) {
        throw BadInput(fmt::format("trainer.{}.metric: expected a data set with a validation split for '{}', got "
                                   "none (the data section holds out no rows)",
                                   key, metric));
      }
    }
  }
  TrainResult result;
  TrainingPosition pos;
  if (s_.resume_from) pos = resume(*s_.resume_from, steps_per_epoch);
  const TrainingPosition resumed_at = pos;
  impl_->metrics->write({{"kind", "start"},
                         {"global_step", pos.global_step},
                         {"resumed", s_.resume_from.has_value()},
                         {"restart", s_.restart_count},
                         {"world_size", comm.size()},
                         {"batch_size", t.batch_size},
                         {"global_batch", step_samples * comm.size()},
                         {"lr", s_.optim.lr},
                         {"warmup_steps", schedule.warmup_steps},
                         {"steps_per_epoch", steps_per_epoch},
                         {"planned_steps", planned}});
  const auto start = Clock::now();
  auto window_start = start;
  double eval_s = 0.0;  // time spent validating, inside time_s
  const auto& target = t.target;
  const auto& early = t.early_stopping;
  bool target_hit = false;
  // Records the first time the target metric reaches its value; true when training should stop.
  auto check_target = [&](const std::string& metric, double value) {
    if (target_hit || target.metric != metric || !target.reached(value)) return false;
    target_hit = true;
    result.target_reached = true;
    result.target_time_s = since(start);
    result.target_step = pos.global_step;
    rank_zero.info("train", "target reached: {} {:.4f} ({} {:g}) at step {} after {}", metric, value,
                   target.mode == "min" ? "<=" : ">=", target.value, pos.global_step,
                   format_duration(result.target_time_s));
    impl_->metrics->write({{"kind", "target"},
                           {"metric", metric},
                           {"value", value},
                           {"target", target.value},
                           {"global_step", pos.global_step},
                           {"epoch", pos.epoch + 1},
                           {"time_s", result.target_time_s},
                           {"eval_s", eval_s}});
    return target.stop;
  };
  // Validation metrics, prefixed val_, with every rank using rank 0's buffers
  // (BatchNorm statistics move on each rank's own batches), the ones the
  // checkpoint will hold.
  std::optional<FirstSamples> val_subset;
  if (s_.data.val && t.val_samples > 0 && t.val_samples < s_.data.val->size()) {
    val_subset.emplace(*s_.data.val, t.val_samples);
    rank_zero.info("train", "validating on the first {} of {} validation samples (trainer.val_samples)",
                   t.val_samples, s_.data.val->size());
  }
  auto validate_now = [&]() {
    const auto eval_start = Clock::now();
    ddp.before_forward();
    model.refresh(*s_.data.train);
    MetricValues values;
    const Dataset& val = val_subset ? static_cast<const Dataset&>(*val_subset) : *s_.data.val;
    for (const auto& [name, value] : evaluate(val, t.val_batch_size)) values["val_" + name] = value;
    eval_s += since(eval_start);
    window_start += Clock::now() - eval_start;  // throughput windows leave the evaluation out
    for (const auto& [key, metric] : watched) {
      if (metric.empty() || metric == "loss" || values.count(metric) > 0) continue;
      std::string names = key == "target" ? "loss" : "";  // only a target may watch the training loss
      for (const auto& kv : values) names += (names.empty() ? "" : ", ") + kv.first;
      throw BadInput(fmt::format("trainer.{}.metric: expected one of {} (this model's metrics), got '{}'", key, names,
                                 metric));
    }
    return values;
  };
  // Counts validations without improvement; true when training should stop.
  auto check_early = [&](const MetricValues& values) {
    if (early.metric.empty()) return false;
    WatchedMetric& state = impl_->early;
    const double value = values.at(early.metric);
    if (!std::isnan(value) && (!state.has_best || early.improves(value, state.best))) {
      state = {true, value, pos.global_step, 0};
      return false;
    }
    if (++state.bad < early.patience) return false;
    result.early_stopped = true;
    rank_zero.info("train", "early stopping: {} has not improved on {:.4f} (step {}) for {} validation{}",
                   early.metric, state.best, state.best_step, state.bad, state.bad == 1 ? "" : "s");
    impl_->metrics->write({{"kind", "early_stop"},
                           {"metric", early.metric},
                           {"best", state.best},
                           {"best_step", state.best_step},
                           {"validations_without_improvement", state.bad},
                           {"global_step", pos.global_step},
                           {"epoch", pos.epoch + 1},
                           {"time_s", since(start)},
                           {"eval_s", eval_s}});
    return true;
  };
  // Writes checkpoints/best.pt when the watched metric improves; `at` is where
  // a resume from it would continue.
  auto check_best = [&](const MetricValues& values, const TrainingPosition& at) {
    const auto& rule = t.best_checkpoint;
    if (rule.metric.empty()) return;
    const double value = values.at(rule.metric);
    WatchedMetric& state = impl_->best;
    if (std::isnan(value) || (state.has_best && !rule.improves(value, state.best))) return;
    state = {true, value, pos.global_step, 0};
    save(at, "best.pt");
    impl_->metrics->write({{"kind", "best_checkpoint"},
                           {"metric", rule.metric},
                           {"value", value},
                           {"global_step", pos.global_step},
                           {"epoch", pos.epoch + 1}});
  };
  bool stop = false;  // the target was reached, or early stopping fired
  int64_t samples_total = 0;
  // Loss and sample count since the last log step, reduced across ranks when logged.
  double window_loss_sum = 0.0;
  int64_t window_samples = 0;
  const ddp::DdpCounters ddp_start = ddp.counters();
  model.train();

  bool continue_epoch = s_.resume_from.has_value();  // a resumed run starts inside its epoch
  for (; pos.epoch < t.epochs && pos.global_step < planned; ++pos.epoch) {
    if (!continue_epoch) pos.step_in_epoch = 0;
    continue_epoch = false;
    const auto order = sampler.indices(pos.epoch);
    double epoch_loss_sum = 0.0, epoch_samples = 0.0;  // over all ranks, from the log windows
    for (; pos.step_in_epoch < steps_per_epoch && pos.global_step < planned;) {
      // Did any rank get a pre-emption notice? Reduced while the step computes;
      // every rank issues it at the same point, before the step's buckets.
      auto stop_flag = torch::full({1}, preemption_requested() ? 1.0 : 0.0, torch::kFloat64);
      auto stop_work = comm.allreduce(stop_flag, dist::ReduceOp::kMax);
      // The step's samples, as accumulate_steps micro-batches; all but the last
      // backward accumulate locally, the last one all-reduces the sum.
      const auto step_indices = slice(order, pos.step_in_epoch * step_samples, step_samples);
      const auto step_size = static_cast<int64_t>(step_indices.size());
      ddp.zero_grad();
      double step_loss_sum = 0.0;
      for (int64_t begin = 0; begin < step_size; begin += t.batch_size) {
        Batch batch = s_.data.train->get(slice(step_indices, begin, t.batch_size));
        const bool final_micro = begin + t.batch_size >= step_size;
        std::optional<ddp::DistributedDataParallel::NoSync> no_sync;
        if (!final_micro) no_sync.emplace(ddp.reducer());
        ddp.before_forward();
        torch::Tensor out = model.forward(batch);
        torch::Tensor loss = model.loss(batch, out);
        ddp.prepare_for_backward({loss});
        // Weighted so the accumulated gradient is that of the mean over the step's samples.
        (loss * (static_cast<double>(batch.size) / static_cast<double>(step_size))).backward();
        step_loss_sum += loss.item<double>() * static_cast<double>(batch.size);
      }
      if (t.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), t.grad_clip);
      set_lr(optimizer, schedule.at(pos.global_step));
      optimizer.step();
      ++pos.step_in_epoch;
      ++pos.global_step;
      window_loss_sum += step_loss_sum;
      window_samples += step_size;
      for (auto& cb : callbacks_.after_step) cb(StepRecord{pos, step_loss_sum / static_cast<double>(step_size), 0.0});

      const bool last = pos.step_in_epoch == steps_per_epoch || pos.global_step == planned;
      if (pos.global_step % t.log_every == 0 || last) {
        auto packed = torch::tensor({window_loss_sum, static_cast<double>(window_samples)}, torch::kFloat64);
        comm.allreduce(packed)->wait();
        const double global_samples = packed[1].item<double>();
        epoch_loss_sum += packed[0].item<double>();
        epoch_samples += global_samples;
        const double elapsed = since(window_start);
        StepRecord record{pos, packed[0].item<double>() / global_samples, global_samples / elapsed};
        samples_total += static_cast<int64_t>(global_samples);
        const double run_time = since(start);
        const double eta = run_time / static_cast<double>(pos.global_step) * static_cast<double>(planned - pos.global_step);
        rank_zero.info("train", "{}", format_progress({pos.epoch + 1, t.epochs, pos.step_in_epoch, steps_per_epoch,
                                                       record.loss, record.samples_per_s, eta}));
        impl_->metrics->write({{"kind", "step"},
                               {"epoch", pos.epoch + 1},
                               {"step", pos.step_in_epoch},
                               {"global_step", pos.global_step},
                               {"loss", record.loss},
                               {"samples", global_samples},
                               {"samples_per_s", record.samples_per_s},
                               {"lr", current_lr(optimizer)},
                               {"time_s", run_time},
                               {"eval_s", eval_s},
                               {"ddp_comm_s", ddp.counters().comm_s - ddp_start.comm_s},
                               {"ddp_exposed_comm_s", ddp.counters().exposed_comm_s - ddp_start.exposed_comm_s},
                               {"ddp_buckets", ddp.counters().buckets},
                               {"ddp_bytes_per_step", ddp.counters().bytes_per_step}});
        result.last_loss = record.loss;
        for (auto& cb : callbacks_.after_log_step) cb(record);
        window_loss_sum = 0.0;
        window_samples = 0;
        window_start = Clock::now();
        stop = check_target("loss", record.loss) || stop;
      }
      // Validation inside the epoch (the epoch's end validates below).
      if (t.validate && s_.data.val && t.val_every > 0 && pos.global_step % t.val_every == 0 &&
          pos.step_in_epoch < steps_per_epoch) {
        const auto values = validate_now();
        nlohmann::json record{{"kind", "eval"}, {"epoch", pos.epoch + 1}, {"step", pos.step_in_epoch},
                              {"global_step", pos.global_step}, {"time_s", since(start)}, {"eval_s", eval_s}};
        std::string line;
        for (const auto& [name, value] : values) {
          record[name] = value;
          line += fmt::format("  {} {:.4f}", name, value);
        }
        impl_->metrics->write(record);
        rank_zero.info("train", "step {}:{}", pos.global_step, line);
        result.val_metrics = values;
        for (const auto& [name, value] : values) stop = check_target(name, value) || stop;
        stop = check_early(values) || stop;
        check_best(values, pos);
      }
      if (t.checkpoint_every > 0 && pos.global_step % t.checkpoint_every == 0 && !last) save(pos);
      stop_work->wait();
      if (stop_flag.item<double>() > 0) {
        TrainingPosition at = pos;
        if (at.step_in_epoch == steps_per_epoch) {  // an epoch just ended: resume at the next one
          ++at.epoch;
          at.step_in_epoch = 0;
        }
        save(at);
        rank_zero.info("train", "pre-empted after step {}: checkpoint written; continue with "
                       "tandem launch --resume <run directory>", pos.global_step);
        comm.barrier()->wait();
        result.preempted = true;
        result.global_step = pos.global_step;
        result.seconds = since(start);
        return result;
      }
      // Every rank sees the same reduced metrics, so every rank stops here together.
      if (stop) break;
    }

    // Every step of the epoch fell in some log window (the last one closes at
    // the epoch's end), so this is the mean over all of the epoch's samples.
    if (stop && pos.step_in_epoch < steps_per_epoch) break;  // inside the epoch: the position stays where it is
    MetricValues epoch_metrics{{"train_loss", epoch_samples > 0 ? epoch_loss_sum / epoch_samples : 0.0}};
    if (t.validate && s_.data.val) {
      for (const auto& [name, value] : validate_now()) epoch_metrics[name] = value;
      result.val_metrics = epoch_metrics;
      std::string line;
      for (const auto& [name, value] : epoch_metrics) line += fmt::format("  {} {:.4f}", name, value);
      rank_zero.info("train", "epoch {}/{} done:{}", pos.epoch + 1, t.epochs, line);
    }
    nlohmann::json record{{"kind", "epoch"}, {"epoch", pos.epoch + 1}, {"global_step", pos.global_step},
                          {"time_s", since(start)}, {"eval_s", eval_s}};
    for (const auto& [name, value] : epoch_metrics) record[name] = value;
    impl_->metrics->write(record);
    for (auto& cb : callbacks_.after_epoch) cb(pos.epoch + 1, epoch_metrics);
    for (const auto& [name, value] : epoch_metrics) {
      if (name != "train_loss") stop = check_target(name, value) || stop;
    }
    if (t.validate && s_.data.val) {
      stop = check_early(epoch_metrics) || stop;
      check_best(epoch_metrics, TrainingPosition{pos.epoch + 1, 0, pos.global_step});
    }
    // A checkpoint due on the epoch's last step is written here, after the
    // epoch's validation, positioned at the start of the next epoch.
    if (!stop && t.checkpoint_every > 0 && pos.global_step % t.checkpoint_every == 0 && pos.global_step < planned) {
      save(TrainingPosition{pos.epoch + 1, 0, pos.global_step});
    }
    if (stop) {
      ++pos.epoch;  // the epoch is complete: the position is the start of the next
      pos.step_in_epoch = 0;
      break;
    }
  }
  if (!target.metric.empty() && !target_hit) {
    rank_zero.info("train", "target not reached: {} {} {:g}", target.metric, target.mode == "min" ? "<=" : ">=",
                   target.value);
  }

  if (pos.global_step == resumed_at.global_step && s_.resume_from) {
    rank_zero.info("train", "nothing to do: the checkpoint is already at step {} of {}", pos.global_step, planned);
    comm.barrier()->wait();
    result.global_step = pos.global_step;
    return result;
  }
  // The final checkpoint records the position after the last step taken.
  if (stop) {
    // Already exact: the loops were left without advancing the epoch.
  } else if (pos.step_in_epoch == steps_per_epoch) {
    pos.step_in_epoch = 0;
  } else {
    --pos.epoch;  // stopped by max_steps inside an epoch
  }
  save(pos);
  comm.barrier()->wait();  // nobody leaves (and rank 0 takes the store down) while a peer still works
  result.global_step = pos.global_step;
  result.seconds = since(start);
  result.samples_per_s = static_cast<double>(samples_total) / result.seconds;
  result.eval_seconds = eval_s;
  impl_->metrics->write({{"kind", "end"},
                         {"global_step", pos.global_step},
                         {"time_s", result.seconds},
                         {"eval_s", eval_s},
                         {"samples", samples_total},
                         {"samples_per_s", result.samples_per_s},
                         {"target_reached", result.target_reached},
                         {"early_stopped", result.early_stopped},
                         {"ddp_comm_s", ddp.counters().comm_s - ddp_start.comm_s},
                         {"ddp_exposed_comm_s", ddp.counters().exposed_comm_s - ddp_start.exposed_comm_s},
                         {"ddp_bytes_per_step", ddp.counters().bytes_per_step},
                         {"ddp_buckets", ddp.counters().buckets}});
  rank_zero.info("train", "finished {} steps in {}: {:.0f} samples/s", pos.global_step,
                 format_duration(result.seconds), result.samples_per_s);
  return result;
}

}  // namespace tandem
