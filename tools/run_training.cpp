#include "tools/run_training.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "framework/core/atomic_file.h"
#include "framework/core/blas_check.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/malloc_tuning.h"
#include "framework/ddp/options_schema.h"
#include "framework/dist/communicator.h"
#include "framework/dist/world.h"
#include "framework/train/device.h"
#include "framework/train/full_batch.h"
#include "framework/train/preemption.h"
#include "framework/train/schedule.h"
#include "framework/train/trainer.h"
#include "launch/error_file.h"
#include "launch/launch_options.h"

namespace tandem::cli {

namespace {

/// The rank's device, current before the world is joined: it decides the
/// backend, and a GPU must be current before the process group's CUDA work.
torch::Device take_device(const TrainerOptions& trainer, const dist::World& world) {
  const torch::Device device = resolve_device(trainer.device, device_context(world.local_rank, world.local_world_size));
  make_current(device);
  if (trainer.deterministic) use_deterministic_algorithms();
  if (device.is_cuda()) log_info("train", "rank {}: {}", world.rank, device.str());
  return device;
}

std::unique_ptr<dist::Communicator> join_world(const YAML::Node& cfg, const dist::World& world,
                                               const torch::Device& device) {
  const auto launch = launch::launch_options_from(cfg["launch"]);
  dist::DistOptions dist_options;
  dist_options.backend = launch.backend;
  dist_options.cuda_device = device.is_cuda() ? device.index() : -1;
  dist_options.timeout = std::chrono::milliseconds(static_cast<int64_t>(launch.timeout_s * 1000));
  // A lost host: the worker stops at once, with the news in its error file for the launcher's report.
  dist_options.on_member_lost = [rank = world.rank](const std::string& what) {
    const std::runtime_error error(fmt::format("[dist] rank {} stops: {}", rank, what));
    launch::record_uncaught_error(error, kExitFailure);
    std::fprintf(stderr, "error: %s\n", error.what());
    std::fflush(stderr);
    std::_Exit(kExitFailure);
  };
  return dist::connect(world, dist_options);
}

/// In a job over several hosts each launcher chose the checkpoint to resume
/// from by itself, the moment its own group stopped, possibly while rank 0 was
/// still writing a newer one. Rank 0's choice wins, so that every
/// rank resumes from the same step; the run directory is shared, so its path
/// is valid on every host. One broadcast, on every rank of such a job.
std::optional<std::filesystem::path> agree_on_checkpoint(dist::Communicator& comm, const dist::World& world,
                                                         const std::optional<std::filesystem::path>& mine) {
  if (world.world_size == world.local_world_size) return mine;  // one host: one launcher chose for all
  constexpr int64_t kMaxPath = 4096;
  auto buffer = torch::zeros({kMaxPath + 1}, torch::kUInt8);  // the path's bytes, then 1 when there is one
  if (world.rank == 0 && mine) {
    const std::string path = mine->string();
    TANDEM_CHECK_INPUT(static_cast<int64_t>(path.size()) <= kMaxPath, "--resume {}: expected a path of at most {} "
                       "bytes", path, kMaxPath);
    std::copy(path.begin(), path.end(), buffer.data_ptr<uint8_t>());
    buffer[kMaxPath] = 1;
  }
  comm.broadcast(buffer, 0)->wait();
  const auto* bytes = buffer.data_ptr<uint8_t>();
  std::optional<std::filesystem::path> chosen;
  if (bytes[kMaxPath] == 1) chosen = std::filesystem::path(std::string(reinterpret_cast<const char*>(bytes)));
  if (chosen != mine) {
    log_info("train", "rank {} resumes as rank 0 does, from {} (this host had chosen {})", world.rank,
             chosen ? chosen->string() : std::string("the beginning"),
             mine ? mine->string() : std::string("the beginning"));
  }
  return chosen;
}

/// Batch size and learning rate for the world actually joined.
void scale_for_world(TrainerOptions& trainer, OptimOptions& optim, int world_size, const RankZero& rank_zero) {
  const ResolvedScaling scaling = resolve_scaling(trainer, optim, world_size);
  if (scaling.lr_factor != 1.0 || trainer.global_batch_size > 0) {
    rank_zero.info("train", "scaled for {} workers: {}{}", world_size, scaling.describe(),
                   scaling.lr_factor != 1.0 ? fmt::format(" (lr {:g} x {:g}, {} scaling from {} worker{})", learning_rate(optim),
                                                          scaling.lr_factor, to_string(optim.lr_scaling), optim.lr_base_workers,
                                                          optim.lr_base_workers == 1 ? "" : "s")
                                            : std::string());
  }
  trainer.batch_size = scaling.batch_size;
  optim.lr = scaling.lr;
}

/// Rank 0's run directory, created with the resolved config in it.
std::optional<RunDir> open_run_dir(const recipe::Resolved& recipe, const std::optional<std::filesystem::path>& arg,
                                   const RankZero& rank_zero) {
  if (!rank_zero.active()) return std::nullopt;
  RunDir run_dir = arg ? RunDir(*arg) : RunDir::fresh_default(recipe.name);
  run_dir.create();
  write_file_atomically(run_dir.config(), recipe::to_yaml(recipe.config));
  rank_zero.info("train", "run directory {}", run_dir.root().string());
  return run_dir;
}

void print_samples(Model& model, const TrainerOptions& trainer, const RankZero& rank_zero) {
  auto* generator = dynamic_cast<TextGenerator*>(&model);
  if (!rank_zero.active() || generator == nullptr || trainer.samples_at_end <= 0) return;
  GenerateOptions g;
  g.count = static_cast<int>(trainer.samples_at_end);
  g.seed = trainer.seed;
  rank_zero.info("sample", "{} generated names:", g.count);
  for (const auto& name : generator->generate(g)) rank_zero.info("sample", "  {}", name);
}

}  // namespace

int run_training(const recipe::Resolved& recipe, const std::optional<std::filesystem::path>& run_dir_arg,
                 const std::optional<std::filesystem::path>& resume) {
  const YAML::Node& cfg = recipe.config;
  install_preemption_handler();  // first: a notice must never kill a worker outright
  tune_malloc_for_training();   // steady allocation across steps (framework/core/malloc_tuning.h)
  const dist::World world = dist::world_from_env();
  // Resolved before joining the world: a missing checkpoint is bad input, not a hang.
  std::optional<std::filesystem::path> checkpoint;
  if (resume) checkpoint = resolve_checkpoint(*resume);
  const RankZero rank_zero(world.rank);
  if (rank_zero.active() && std::getenv("TANDEM_LAUNCHED") == nullptr) warn_if_reference_blas();

  TrainerOptions trainer = trainer_options_from(cfg["trainer"]);
  const torch::Device device = take_device(trainer, world);
  auto comm = join_world(cfg, world, device);
  checkpoint = agree_on_checkpoint(*comm, world, checkpoint);
  OptimOptions optim = optim_options_from(cfg["optim"]);
  scale_for_world(trainer, optim, world.world_size, rank_zero);
  std::optional<RunDir> run_dir = open_run_dir(recipe, run_dir_arg, rank_zero);

  torch::manual_seed(trainer.seed);  // same initial weights on every rank (rank 0's are broadcast anyway)
  DataSplits data = load_dataset(cfg["data"]);
  std::shared_ptr<Model> model = create_model(cfg["model"]);
  torch::manual_seed(trainer.seed + static_cast<uint64_t>(world.rank));  // distinct dropout masks per rank

  if (auto* fitter = dynamic_cast<FullBatchFitter*>(model.get()); fitter != nullptr && fitter->fits_full_batch()) {
    model->prepare(*data.train);  // what the Trainer's constructor does on the other path
    FullBatchSetup full;
    full.data = data;
    full.comm = comm.get();
    full.run_dir = run_dir;
    full.config_yaml = recipe::to_yaml(cfg);
    fitter->fit_full_batch(full);
    return 0;
  }

  TrainerSetup setup;
  setup.model = model;
  setup.data = data;
  setup.comm = comm.get();
  setup.trainer = trainer;
  setup.optim = optim;
  setup.ddp = ddp::ddp_options_from(cfg["ddp"]);
  setup.run_dir = run_dir;
  setup.config_yaml = recipe::to_yaml(cfg);
  setup.resume_from = checkpoint;
  setup.restart_count = world.restart_count;
  setup.device = device;
  if (Trainer(std::move(setup)).fit().preempted) return kExitPreempted;
  print_samples(*model, trainer, rank_zero);
  return 0;
}

}  // namespace tandem::cli
