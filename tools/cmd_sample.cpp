// `tandem sample --checkpoint PATH`: names from a trained text model, or with
// --stats how a sample of them compares with the training names.
#include <fmt/format.h>

#include <cstdio>
#include <set>

#include "data/names/name_stats.h"
#include "data/names/names_dataset.h"
#include "framework/core/error.h"
#include "framework/train/model_checkpoint.h"
#include "tools/commands.h"

namespace tandem::cli {

void add_sample_command(CLI::App& app, Action& action) {
  struct Args {
    std::string checkpoint;
    int count = 10;
    double temperature = 1.0;
    int top_k = 0;
    double top_p = 1.0;
    std::string prefix;
    uint64_t seed = 0;
    bool novel = false;
    bool stats = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("sample", "Generate text (names) from a checkpoint of a text model.");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint file, or a run directory (its newest checkpoint)")
      ->required();
  auto* count = cmd->add_option("--count", args->count, "How many samples (10; 1000 with --stats)")
                    ->check(CLI::Range(1, 100000));
  cmd->add_option("--temperature", args->temperature,
                  "Softmax temperature (> 0; lower is more conservative), times the model's own calibration "
                  "temperature (char_lstm's model.calibration_temperature)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--top-k", args->top_k, "Draw among the k likeliest characters only (0: all)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--top-p", args->top_p,
                  "Nucleus sampling: draw among the fewest likeliest characters whose probability reaches p (1: all)")
      ->check(CLI::Range(1e-9, 1.0));
  cmd->add_option("--prefix", args->prefix, "Every sample starts with this text");
  cmd->add_option("--seed", args->seed, "Random seed");
  auto* novel = cmd->add_flag("--novel", args->novel, "Drop samples that appear in the training data");
  cmd->add_flag("--stats", args->stats,
                "Print, instead of the names, the share that is novel or equal to a training name and the length "
                "distribution against the training names'")
      ->excludes(novel);
  cmd->callback([&action, args, count] {
    if (args->stats && count->count() == 0) args->count = 1000;
    action = [args] {
      const LoadedModel loaded = load_model_from_checkpoint(args->checkpoint);  // on the CPU
      const YAML::Node& config = loaded.config;
      auto* generator = &loaded.as<TextGenerator>("generate text");
      std::set<std::string> known;
      data::NamesSplit split;
      if (args->novel || args->stats) {
        if (config["data"]["type"].as<std::string>() != "names") {
          throw BadInput(fmt::format("{} needs a checkpoint trained on a 'names' dataset",
                                     args->novel ? "--novel" : "--stats"));
        }
        split = data::NamesDataset::split(config["data"]);
        if (args->novel) known.insert(split.train.begin(), split.train.end());
      }
      GenerateOptions g;
      g.temperature = args->temperature;
      g.top_k = args->top_k;
      g.top_p = args->top_p;
      g.prefix = args->prefix;
      std::vector<std::string> out;
      // Draw in rounds until enough novel names (or give up after many rounds).
      for (int round = 0; static_cast<int>(out.size()) < args->count && round < 50; ++round) {
        g.seed = args->seed + static_cast<uint64_t>(round) * 1000003ULL;
        g.count = args->count;
        std::vector<std::string> batch;
        try {
          batch = generator->generate(g);
        } catch (const std::invalid_argument& e) {
          throw BadInput(fmt::format("--prefix '{}': {}", args->prefix, e.what()));
        }
        for (auto& name : batch) {
          if (static_cast<int>(out.size()) == args->count) break;
          if (!known.count(name)) out.push_back(name);
        }
      }
      if (args->stats) {
        std::fputs(data::format_sample_stats(data::sample_stats(out, split.train, split.val)).c_str(), stdout);
        return 0;
      }
      for (const auto& name : out) std::printf("%s\n", name.c_str());
      return 0;
    };
  });
}

}  // namespace tandem::cli
