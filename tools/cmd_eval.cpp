// `tandem eval --checkpoint PATH [data.key=value ...] [model.KEY=value ...] [--data FILE [--skip-unknown]]`:
// loss and metrics of a checkpoint on a data set (its own validation split by
// default, or any names file).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
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

/// eval scores the checkpoint's trained model: it takes data.key=value, and
/// model.key=value only for the model's inference-only keys.
void check_eval_overrides(const std::vector<std::string>& overrides, const std::string& model_type) {
  const recipe::Section* model = recipe_schema().find_section("model")->variant(model_type);
  std::vector<std::string> inference_keys;
  if (model != nullptr) {
    for (const auto& k : model->keys()) {
      if (k.is_inference_only()) inference_keys.push_back("model." + k.name());
    }
  }
  for (const auto& o : overrides) {
    if (o.rfind("data.", 0) == 0) continue;
    const auto key = o.substr(0, o.find('='));
    if (std::find(inference_keys.begin(), inference_keys.end(), key) != inference_keys.end()) continue;
    throw BadInput(fmt::format(
        "{}: eval takes data overrides (data.key=value){}; the rest of the model is the checkpoint's", o,
        inference_keys.empty() ? std::string()
                               : fmt::format(" and the model's inference keys ({})", fmt::join(inference_keys, ", "))));
  }
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
  cmd->add_option("overrides", args->overrides,
                  "Data overrides, e.g. data.path=other.txt data.val_fraction=0.5, and the model's inference keys, "
                  "e.g. model.calibration_temperature=1.1");
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
      LoadedModel loaded = load_model_from_checkpoint(args->checkpoint);
      const auto& path = loaded.path;
      const auto& info = loaded.info;
      check_eval_overrides(args->overrides, loaded.type());
      auto recipe = recipe::load_text(info.config_yaml, path.string() + " (config)", args->overrides, recipe_schema());
      if (std::any_of(args->overrides.begin(), args->overrides.end(),
                      [](const std::string& o) { return o.rfind("model.", 0) == 0; })) {
        loaded.reconfigure(recipe.config["model"]);
      }
      auto& model = loaded.model;
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
