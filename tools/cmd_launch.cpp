// `tandem launch [--nproc-per-node N] RECIPE [key=value ...]`: validate the
// recipe, make the run directory, start one worker per rank, watch them.
#include <fmt/format.h>

#include "framework/core/blas_check.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/train/run_dir.h"
#include "launch/launch_options.h"
#include "launch/launcher.h"
#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {

void add_launch_command(CLI::App& app, Action& action) {
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    int nproc = 0;
    std::string master_addr;
    int master_port = -1;
    std::string run_dir;
    std::string resume;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("launch", "Validate a recipe and train it with one worker process per rank.");
  cmd->add_option("recipe", args->recipe, "Recipe file (YAML); with --resume, default RUN_DIR/config.yaml");
  cmd->add_option("overrides", args->overrides, "Overrides as key.path=value, e.g. optim.lr=0.004 trainer.epochs=2");
  cmd->add_option("--nproc-per-node,--nproc_per_node", args->nproc, "Workers on this machine (launch.nproc_per_node)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--master-addr,--master_addr", args->master_addr, "Address of rank 0's store (launch.master_addr)");
  cmd->add_option("--master-port,--master_port", args->master_port, "Port of rank 0's store; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--run-dir", args->run_dir, "Run directory (default runs/<recipe>/<timestamp>)");
  cmd->add_option("--resume", args->resume,
                  "Continue the run in this directory from its newest complete checkpoint (overrides still apply)");
  cmd->callback([&action, args] {
    action = [args] {
      // Flags are overrides too, so they are validated and recorded like any key.
      auto overrides = args->overrides;
      std::optional<std::filesystem::path> checkpoint;
      if (!args->resume.empty()) {
        checkpoint = resolve_checkpoint(args->resume);  // none: bad input, before anything starts
        if (!args->run_dir.empty() && !std::filesystem::equivalent(args->run_dir, args->resume)) {
          throw BadInput("--run-dir and --resume name different directories; --resume continues a run in place");
        }
        args->run_dir = args->resume;
        // `tandem launch --resume DIR key=value`: the first override lands in the recipe slot.
        if (args->recipe.find('=') != std::string::npos && !std::filesystem::exists(args->recipe)) {
          overrides.insert(overrides.begin(), args->recipe);
          args->recipe.clear();
        }
        if (args->recipe.empty()) args->recipe = (std::filesystem::path(args->resume) / "config.yaml").string();
      } else if (args->recipe.empty()) {
        throw BadInput("launch needs a recipe file (or --resume RUN_DIR)");
      }
      if (args->nproc > 0) overrides.push_back(fmt::format("launch.nproc_per_node={}", args->nproc));
      if (!args->master_addr.empty()) overrides.push_back("launch.master_addr=" + args->master_addr);
      if (args->master_port >= 0) overrides.push_back(fmt::format("launch.master_port={}", args->master_port));
      auto recipe = load_recipe(args->recipe, overrides);
      warn_if_reference_blas();

      const RunDir run_dir = args->run_dir.empty() ? RunDir::fresh_default(recipe.name) : RunDir(args->run_dir);
      run_dir.create();
      write_file_atomically(run_dir.config(), recipe::to_yaml(recipe.config));

      const auto options = launch::launch_options_from(recipe.config["launch"]);
      launch::WorkerGroupSpec spec;
      spec.argv = {self_executable(), "train", run_dir.config().string(), "--run-dir", run_dir.root().string()};
      if (checkpoint) {
        spec.argv.insert(spec.argv.end(), {"--resume", checkpoint->string()});
        log_info("launch", "resuming from {}", checkpoint->string());
      }
      spec.nproc_per_node = options.nproc_per_node;
      spec.master_addr = options.master_addr;
      spec.master_port = options.master_port;
      spec.logs_dir = run_dir.logs();
      log_info("launch", "{} worker{} for {}; run directory {}", spec.nproc_per_node,
               spec.nproc_per_node == 1 ? "" : "s", args->recipe, run_dir.root().string());
      auto result = launch::run_workers(spec);
      if (result.exit_code == 0) log_info("launch", "done; run directory {}", run_dir.root().string());
      return result.exit_code;
    };
  });
}

}  // namespace tandem::cli
