// `tandem validate RECIPE [key=value ...] [--dump-config]`: check a recipe
// without starting anything; print the resolved config on request.
#include <cstdio>

#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {

void add_validate_command(CLI::App& app, Action& action) {
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    bool dump = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("validate", "Check a recipe and its overrides; start nothing.");
  cmd->add_option("recipe", args->recipe, "Recipe file (YAML)")->required();
  cmd->add_option("overrides", args->overrides, "Overrides as key.path=value");
  cmd->add_flag("--dump-config", args->dump, "Print the resolved config (defaults filled in, overrides applied)");
  cmd->callback([&action, args] {
    action = [args] {
      auto recipe = load_recipe(args->recipe, args->overrides);
      if (args->dump) {
        std::fputs(recipe::to_yaml(recipe.config).c_str(), stdout);
      } else {
        std::printf("%s: ok\n", args->recipe.c_str());
      }
      return 0;
    };
  });
}

}  // namespace tandem::cli
