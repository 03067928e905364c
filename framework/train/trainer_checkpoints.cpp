// Trainer::Impl's checkpoints: writing one (a collective: every rank's random
// state goes in) and resuming from one.
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/version.h"
#include "framework/train/checkpoint.h"
#include "framework/train/device.h"
#include "framework/train/trainer_impl.h"

namespace tandem {

void Trainer::Impl::save(const TrainingPosition& at, const std::string& as) {
  // Every rank's generator states go into the checkpoint (ranks draw
  // different dropout masks): a collective, so every rank comes here.
  const torch::Tensor rng_ranks = gather_rows(at::detail::getDefaultCPUGenerator().get_state());
  const torch::Tensor device_rng = device_rng_state(s.device);  // undefined on the CPU
  const torch::Tensor rng_cuda_ranks = device_rng.defined() ? gather_rows(device_rng) : torch::Tensor();
  if (!s.run_dir || !rank_zero.active()) return;
  s.model->refresh(*s.data.train);
  const auto path =
      as.empty() ? checkpoint_path(s.run_dir->checkpoints(), at.global_step) : s.run_dir->checkpoints() / as;
  CheckpointInfo info;
  info.position = at;
  info.config_yaml = s.config_yaml;
  info.tandem_version = TANDEM_VERSION;
  info.world_size = s.comm->size();
  info.rng_cpu_ranks = rng_ranks;
  info.rng_cuda_ranks = rng_cuda_ranks;
  info.early_stopping = early->state();
  info.best_checkpoint = best->state();
  if (const LossScaler* scaler = precision.scaler()) info.loss_scale = scaler->state();
  if (average->active()) {  // the checkpoint's model is the mean; training goes on from these
    for (const auto& p : s.model->parameters()) info.training_weights.push_back(p.detach().clone());
    info.averaged_steps = average->count();
  }
  {
    AveragedWeightsInModel averaged(*average);
    save_checkpoint(path, *s.model, optimizer.get(), info);
  }
  if (as.empty()) prune_checkpoints(s.run_dir->checkpoints(), s.trainer.keep_checkpoints);
  rank_zero.info("train", "checkpoint {}", path.string());
  for (const auto& cb : callbacks) cb->on_checkpoint(path);
}

torch::Tensor Trainer::Impl::gather_rows(const torch::Tensor& mine) const {
  torch::Tensor all = torch::empty({s.comm->size(), mine.numel()}, mine.options());
  auto rows = all.unbind(0);
  s.comm->allgather(rows, mine.reshape({-1}))->wait();
  return all;
}

TrainingPosition Trainer::Impl::resume(const std::filesystem::path& path) {
  Checkpoint checkpoint(path);  // opened once: seal, archive, info
  const CheckpointInfo& info = checkpoint.info();
  if (info.position.step_in_epoch >= plan.steps_per_epoch) {
    throw BadInput(fmt::format("{}: step {} of an epoch, but this recipe has {} steps per epoch; the data or batch "
                               "size changed since the checkpoint",
                               path.string(), info.position.step_in_epoch, plan.steps_per_epoch));
  }
  early->restore(info.early_stopping);
  best->restore(info.best_checkpoint);
  if (LossScaler* scaler = precision.scaler(); scaler && info.loss_scale) scaler->restore(*info.loss_scale);
  checkpoint.load_model(*s.model);
  if (info.averaged_steps > 0) average->restore(info.training_weights, info.averaged_steps);
  const bool exact = checkpoint.load_training(*optimizer, s.comm->rank(), s.device);
  rank_zero.info("train", "resuming from {}: epoch {}, step {} of the epoch, global step {}", path.string(),
                 info.position.epoch + 1, info.position.step_in_epoch, info.position.global_step);
  if (info.tandem_version != TANDEM_VERSION && rank_zero.active()) {
    log_warn("train", "the checkpoint was written by Tandem {}, this is {}: resuming, but check the release notes",
             info.tandem_version, TANDEM_VERSION);
  }
  if (info.world_size != s.comm->size()) {
    if (rank_zero.active()) {
      log_warn("train", "the checkpoint was written by {} workers, this run has {}: the data is sharded "
               "differently, so training continues but not bit for bit as it would have", info.world_size,
               s.comm->size());
    }
  } else if (!exact) {
    log_warn("train", "rank {}: the checkpoint holds no random state of this rank's {}; dropout goes on, but not "
             "bit for bit as it would have", s.comm->rank(), s.device.is_cuda() ? "CPU or GPU" : "CPU");
  }
  return info.position;
}

}  // namespace tandem
