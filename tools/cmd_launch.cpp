// `tandem launch [--nproc-per-node N|cpu|gpu|auto] RECIPE [key=value ...]`: validate the
// recipe, make the run directory, start one worker per rank, watch them.
#include <fmt/format.h>

#include <cstdlib>
#include <functional>
#include <optional>

#include "framework/core/atomic_file.h"
#include "framework/core/blas_check.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/run_dir.h"
#include "framework/dist/communicator.h"
#include "framework/train/checkpoint_files.h"
#include "launch/launch_options.h"
#include "launch/launcher.h"
#include "launch/restarts.h"
#include "launch/store_token.h"
#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {
namespace {

struct LaunchArgs {
  std::string recipe;
  std::vector<std::string> overrides;
  std::string nproc;  ///< as typed: N, cpu, gpu or auto
  std::string master_addr;
  int master_port = -1;
  std::string run_dir;
  std::string resume;
  int max_restarts = -1;
  int nnodes = 0;
  int node_rank = -1;
};

/// With --resume: the newest checkpoint of that run directory (bad input when
/// there is none, before anything starts); the recipe defaults to its config.
std::optional<std::filesystem::path> take_resume(LaunchArgs& args, std::vector<std::string>& overrides) {
  if (args.resume.empty()) {
    if (args.recipe.empty()) throw BadInput("launch needs a recipe file (or --resume RUN_DIR)");
    return std::nullopt;
  }
  auto checkpoint = resolve_checkpoint(args.resume);
  if (!args.run_dir.empty() && !std::filesystem::equivalent(args.run_dir, args.resume)) {
    throw BadInput("--run-dir and --resume name different directories; --resume continues a run in place");
  }
  args.run_dir = args.resume;
  // `tandem launch --resume DIR key=value`: the first override lands in the recipe slot.
  if (args.recipe.find('=') != std::string::npos && !std::filesystem::exists(args.recipe)) {
    overrides.insert(overrides.begin(), args.recipe);
    args.recipe.clear();
  }
  if (args.recipe.empty()) args.recipe = (std::filesystem::path(args.resume) / "config.yaml").string();
  return checkpoint;
}

/// Flags are overrides too, so they are validated and recorded like any key.
void add_flag_overrides(const LaunchArgs& args, std::vector<std::string>& overrides) {
  if (!args.nproc.empty()) {
    const int gpus = dist::visible_gpus(), cores = launch::usable_cpu_cores();
    const int n = launch::workers_per_node(args.nproc, cores, gpus);
    if (args.nproc == "cpu" || args.nproc == "gpu" || args.nproc == "auto") {
      log_info("launch", "--nproc-per-node {}: {} worker{} ({} CPU core{}, {} GPU{})", args.nproc, n,
               n == 1 ? "" : "s", cores, cores == 1 ? "" : "s", gpus, gpus == 1 ? "" : "s");
    }
    overrides.push_back(fmt::format("launch.nproc_per_node={}", n));
  }
  if (!args.master_addr.empty()) overrides.push_back("launch.master_addr=" + args.master_addr);
  if (args.master_port >= 0) overrides.push_back(fmt::format("launch.master_port={}", args.master_port));
  if (args.max_restarts >= 0) overrides.push_back(fmt::format("launch.max_restarts={}", args.max_restarts));
  if (args.nnodes > 0) overrides.push_back(fmt::format("launch.nnodes={}", args.nnodes));
  if (args.node_rank >= 0) overrides.push_back(fmt::format("launch.node_rank={}", args.node_rank));
}

/// The group of `tandem train` workers for the run directory, as the recipe's launch: section says.
launch::WorkerGroupSpec group_spec(const launch::LaunchOptions& options, const RunDir& run_dir) {
  launch::WorkerGroupSpec spec;
  spec.nproc_per_node = options.nproc_per_node;
  spec.nnodes = options.nnodes;
  spec.node_rank = options.node_rank;
  spec.master_addr = options.master_addr;
  spec.master_port = options.master_port;
  spec.argv = {self_executable(), "train", run_dir.config().string(), "--run-dir", run_dir.root().string()};
  spec.logs_dir = run_dir.logs();
  return spec;
}

/// After a failure, the run's newest intact checkpoint; none yet: from the beginning.
std::function<std::optional<std::filesystem::path>()> newest_checkpoint_of(const RunDir& run_dir) {
  return [root = run_dir.root()]() -> std::optional<std::filesystem::path> {
    try {
      return resolve_checkpoint(root);
    } catch (const BadInput&) {
      return std::nullopt;
    }
  };
}

int launch_recipe(LaunchArgs args) {
  auto overrides = args.overrides;
  const std::optional<std::filesystem::path> checkpoint = take_resume(args, overrides);
  add_flag_overrides(args, overrides);
  auto recipe = load_recipe(args.recipe, overrides);
  warn_if_reference_blas();
  if (recipe.sweep.IsMap() && std::getenv("TANDEM_SWEEP") == nullptr) {
    log_info("launch", "the recipe's sweep: block is run by `tandem sweep`; launch trains its base point");
  }

  const RunDir run_dir = args.run_dir.empty() ? RunDir::fresh_default(recipe.name) : RunDir(args.run_dir);
  run_dir.create();
  write_file_atomically(run_dir.config(), recipe::to_yaml(recipe.config));

  const auto options = launch::launch_options_from(recipe.config["launch"]);
  const launch::WorkerGroupSpec spec = group_spec(options, run_dir);
  log_info("launch", "{} worker{} for {}{}; run directory {}", spec.nproc_per_node,
           spec.nproc_per_node == 1 ? "" : "s", args.recipe,
           spec.nnodes > 1 ? fmt::format(" on host {} of {}", spec.node_rank, spec.nnodes) : std::string(),
           run_dir.root().string());
  if (spec.nnodes > 1 && std::getenv(launch::kStoreTokenEnv) == nullptr) {
    log_warn("launch", "{} is not set: with several hosts every launcher must be given the same token, so this "
             "job runs without one and a worker of another job dialling port {} would not be told apart",
             launch::kStoreTokenEnv, spec.master_port);
  }
  launch::RestartPolicy restarts;
  restarts.max_restarts = options.max_restarts;
  restarts.resume_from = checkpoint;
  restarts.newest_checkpoint = newest_checkpoint_of(run_dir);
  const launch::LaunchResult result = launch::run_with_restarts(spec, restarts);
  if (result.exit_code == kExitPreempted) {
    log_warn("launch", "pre-empted: checkpoint written; continue with: tandem launch --resume {}",
             run_dir.root().string());
  }
  if (result.exit_code == 0) log_info("launch", "done; run directory {}", run_dir.root().string());
  return result.exit_code;
}

}  // namespace

void add_launch_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<LaunchArgs>();
  auto* cmd = app.add_subcommand("launch", "Validate a recipe and train it with one worker process per rank.");
  cmd->add_option("recipe", args->recipe, "Recipe file (YAML); with --resume, default RUN_DIR/config.yaml");
  cmd->add_option("overrides", args->overrides, "Overrides as key.path=value, e.g. optim.lr=0.004 trainer.epochs=2");
  cmd->add_option("--nproc-per-node,--nproc_per_node", args->nproc,
                  "Workers on this machine (launch.nproc_per_node): N, cpu (its cores), gpu (its GPUs) or auto "
                  "(GPUs if any, else cores)");
  cmd->add_option("--master-addr,--master_addr", args->master_addr, "Address of rank 0's store (launch.master_addr)");
  cmd->add_option("--master-port,--master_port", args->master_port, "Port of rank 0's store; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--run-dir", args->run_dir, "Run directory (default runs/<recipe>/<timestamp>)");
  cmd->add_option("--nnodes", args->nnodes, "Hosts in the job, each running this command (launch.nnodes)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--node-rank,--node_rank", args->node_rank, "This host's index, 0 on the master (launch.node_rank)")
      ->check(CLI::Range(0, 4095));
  cmd->add_option("--max-restarts,--max_restarts", args->max_restarts,
                  "Restart the group from the newest checkpoint after a worker fails, up to this many times "
                  "(launch.max_restarts)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--resume", args->resume,
                  "Continue the run in this directory from its newest complete checkpoint (overrides still apply)");
  cmd->callback([&action, args] { action = [args] { return launch_recipe(*args); }; });
}

}  // namespace tandem::cli
