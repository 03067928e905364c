// `tandem eval --checkpoint PATH [data.key=value ...]`: loss and metrics of a
// checkpoint on a data set (its own validation split by default).
#include <fmt/format.h>

#include <cstdio>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"
#include "framework/train/model_checkpoint.h"
#include "framework/train/trainer.h"
#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {

void add_eval_command(CLI::App& app, Action& action) {
  struct Args {
    std::string checkpoint;
    std::vector<std::string> overrides;
    std::string split = "val";
    int64_t batch_size = 1024;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Loss and metrics of a checkpoint on a data set.");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint file, or a run directory (its newest checkpoint)")
      ->required();
  cmd->add_option("overrides", args->overrides, "Data overrides, e.g. data.path=other.txt data.val_fraction=0.5");
  cmd->add_option("--split", args->split, "Which split to evaluate")->check(CLI::IsMember({"train", "val"}));
  cmd->add_option("--batch-size", args->batch_size, "Samples per batch")->check(CLI::Range(1, 1 << 20));
  cmd->callback([&action, args] {
    action = [args] {
      for (const auto& o : args->overrides) {
        if (o.rfind("data.", 0) != 0) {
          throw BadInput(fmt::format("{}: eval takes data overrides only (data.key=value); the model is the "
                                     "checkpoint's",
                                     o));
        }
      }
      const LoadedModel loaded = load_model_from_checkpoint(args->checkpoint);
      const auto& path = loaded.path;
      const auto& info = loaded.info;
      auto& model = loaded.model;
      auto recipe = recipe::load_text(info.config_yaml, path.string() + " (config)", args->overrides, recipe_schema());
      DataSplits data = load_dataset(recipe.config["data"]);
      auto set = args->split == "train" ? data.train : data.val;
      if (!set) throw BadInput("the data set has no '" + args->split + "' split (is data.val_fraction 0?)");
      auto comm = dist::make_local_communicator();
      const auto metrics = evaluate_model(*model, *set, args->batch_size, *comm);
      std::printf("checkpoint %s (step %lld), split %s, %lld samples\n", path.string().c_str(),
                  static_cast<long long>(info.position.global_step), args->split.c_str(),
                  static_cast<long long>(set->size()));
      for (const auto& [name, value] : metrics) std::printf("%s %.6f\n", name.c_str(), value);
      return 0;
    };
  });
}

}  // namespace tandem::cli
