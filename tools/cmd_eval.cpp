// `tandem eval --checkpoint PATH [data.key=value ...] [--data FILE [--skip-unknown]]`:
// loss and metrics of a checkpoint on a data set (its own validation split by
// default, or any names file).
#include <fmt/format.h>

#include <cstdio>

#include "data/names/char_windows.h"
#include "data/names/names_file.h"
#include "data/text/alphabet.h"
#include "framework/core/error.h"
#include "framework/dist/communicator.h"
#include "framework/train/model_checkpoint.h"
#include "framework/train/trainer.h"
#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {
namespace {

/// Every name of `file` as the checkpoint's windows (a names-trained model only).
std::shared_ptr<Dataset> names_file_windows(const YAML::Node& data_section, const std::string& file,
                                            bool skip_unknown, std::string* description) {
  const auto type = data_section["type"].as<std::string>();
  if (type != "names") {
    throw BadInput(fmt::format("--data {}: expected a checkpoint trained on a 'names' data set, got one trained on "
                               "'{}'; use data.key=value overrides to score other data",
                               file, type));
  }
  const auto read = data::read_names_file(file, skip_unknown ? data::OnInvalid::kSkip : data::OnInvalid::kError,
                                          "pass --skip-unknown to skip such names");
  *description = fmt::format("data {}, {} names", file, read.names.size());
  if (read.skipped > 0) {
    *description += fmt::format(" ({} skipped: characters outside {})", read.skipped, text::Alphabet::describe());
  }
  // Checkpoints written before data.windows existed trained every-position windows.
  const auto windows = data_section["windows"] ? data_section["windows"].as<std::string>() : "every_position";
  return std::make_shared<data::CharWindows>(read.names, data_section["context"].as<int64_t>(),
                                             data::window_mode_from(windows));
}

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  struct Args {
    std::string checkpoint;
    std::vector<std::string> overrides;
    std::string split = "val";
    int64_t batch_size = 1024;
    std::string data;
    bool skip_unknown = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Loss and metrics of a checkpoint on a data set.");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint file, or a run directory (its newest checkpoint)")
      ->required();
  cmd->add_option("overrides", args->overrides, "Data overrides, e.g. data.path=other.txt data.val_fraction=0.5");
  auto* split = cmd->add_option("--split", args->split, "Which split to evaluate")->check(CLI::IsMember({"train", "val"}));
  cmd->add_option("--batch-size", args->batch_size, "Samples per batch")->check(CLI::Range(1, 1 << 20));
  auto* data = cmd->add_option("--data", args->data,
                               "Score every name of this file (one per line) instead of a split (text models)");
  data->excludes(split);
  cmd->add_flag("--skip-unknown", args->skip_unknown,
                "With --data: skip names with characters outside the model's alphabet (and say how many)")
      ->needs(data);
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
      std::shared_ptr<Dataset> set;
      std::string description;
      if (!args->data.empty()) {
        set = names_file_windows(recipe.config["data"], args->data, args->skip_unknown, &description);
      } else {
        DataSplits splits = load_dataset(recipe.config["data"]);
        set = args->split == "train" ? splits.train : splits.val;
        if (!set) throw BadInput("the data set has no '" + args->split + "' split (is data.val_fraction 0?)");
        description = "split " + args->split;
      }
      auto comm = dist::make_local_communicator();
      const auto metrics = evaluate_model(*model, *set, args->batch_size, *comm);
      std::printf("checkpoint %s (step %lld), %s, %lld samples\n", path.string().c_str(),
                  static_cast<long long>(info.position.global_step), description.c_str(),
                  static_cast<long long>(set->size()));
      for (const auto& [name, value] : metrics) std::printf("%s %.6f\n", name.c_str(), value);
      return 0;
    };
  });
}

}  // namespace tandem::cli
