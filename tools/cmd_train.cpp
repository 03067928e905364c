// `tandem train RECIPE [key=value ...]`: one worker. The launcher starts it
// once per rank; it also runs under any launcher that sets torchrun's variables.
#include "tools/commands.h"
#include "tools/recipe_schema.h"
#include "tools/run_training.h"

namespace tandem::cli {

void add_train_command(CLI::App& app, Action& action) {
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    std::string run_dir;
    std::string resume;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("train", "Run one training worker (what `launch` starts for each rank).");
  cmd->add_option("recipe", args->recipe, "Recipe file (YAML)")->required();
  cmd->add_option("overrides", args->overrides, "Overrides as key.path=value, e.g. optim.lr=0.004");
  cmd->add_option("--run-dir", args->run_dir, "Run directory (default runs/<recipe>/<timestamp>)");
  cmd->add_option("--resume", args->resume,
                  "Continue from this checkpoint, or from the newest checkpoint of this run directory");
  cmd->callback([&action, args] {
    action = [args] {
      auto recipe = load_recipe(args->recipe, args->overrides);
      std::optional<std::filesystem::path> run_dir, resume;
      if (!args->run_dir.empty()) run_dir = args->run_dir;
      if (!args->resume.empty()) resume = args->resume;
      return run_training(recipe, run_dir, resume);
    };
  });
}

}  // namespace tandem::cli
