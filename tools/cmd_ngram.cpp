// `tandem ngram RECIPE [key=value ...] [--order N] [--discount D] [--data FILE]`:
// the character n-gram baseline of a text recipe, fitted to the recipe's own
// training split and scored as `tandem eval` scores a text model.
#include <fmt/format.h>

#include <cstdio>

#include "data/names/names_dataset.h"
#include "data/names/names_file.h"
#include "data/text/alphabet.h"
#include "data/text/char_ngram.h"
#include "data/text/lm_score.h"
#include "framework/core/error.h"
#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {

void add_ngram_command(CLI::App& app, Action& action) {
  struct Args {
    std::string recipe;
    std::vector<std::string> overrides;
    text::CharNgramOptions options;
    std::string data;
    bool skip_unknown = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "ngram", "The character n-gram baseline (interpolated Kneser-Ney) of a names recipe: fitted to its training "
               "split, scored per character on its validation split.");
  cmd->add_option("recipe", args->recipe, "Recipe file (YAML) with a 'names' data section")->required();
  cmd->add_option("overrides", args->overrides, "Overrides as key.path=value, e.g. data.split_seed=1");
  cmd->add_option("--order", args->options.order, "n: the model reads the last n-1 characters")
      ->check(CLI::Range(1, 16));
  cmd->add_option("--discount", args->options.discount,
                  "Kneser-Ney discount at every order, in (0, 1]; 0 estimates each order's from its counts")
      ->check(CLI::Range(0.0, 1.0));
  auto* data = cmd->add_option("--data", args->data, "Score every name of this file instead of the validation split");
  cmd->add_flag("--skip-unknown", args->skip_unknown,
                "With --data: skip names with characters outside the alphabet (and say how many)")
      ->needs(data);
  cmd->callback([&action, args] {
    action = [args] {
      const auto recipe = load_recipe(args->recipe, args->overrides);
      const YAML::Node section = recipe.config["data"];
      const auto type = section["type"].as<std::string>();
      if (type != "names") {
        throw BadInput(fmt::format("{}: data.type: expected 'names' (the n-gram baseline models names), got '{}'",
                                   args->recipe, type));
      }
      const data::NamesSplit split = data::NamesDataset::split(section);
      std::vector<std::string> scored = split.val;
      const bool tuning = section["tune_fraction"] && section["tune_fraction"].as<double>() > 0;
      std::string description =
          fmt::format("{} split of {}", tuning ? "tuning" : "validation", section["path"].as<std::string>());
      if (!args->data.empty()) {
        auto read = data::read_names_file(args->data, args->skip_unknown ? data::OnInvalid::kSkip
                                                                         : data::OnInvalid::kError,
                                          "pass --skip-unknown to skip such names");
        scored = std::move(read.names);
        description = args->data;
        if (read.skipped > 0) {
          description += fmt::format(" ({} skipped: characters outside {})", read.skipped, text::Alphabet::describe());
        }
      } else if (scored.empty()) {
        throw BadInput(fmt::format("{}: data.val_fraction is 0, so there is no validation split to score; set it "
                                   "or pass --data FILE",
                                   args->recipe));
      }
      const text::CharNgram model(split.train, args->options);
      const auto score = model.score(scored);
      std::string discounts;
      for (double d : model.discounts()) discounts += fmt::format(" {:.3f}", d);
      std::printf("%d-gram, interpolated Kneser-Ney (discounts by order:%s), fitted to %zu training names\n",
                  model.order(), discounts.c_str(), split.train.size());
      std::printf("scored: %s, %zu names, %lld characters with the stop symbols\n", description.c_str(),
                  scored.size(), static_cast<long long>(score.symbols));
      const double nll = score.nats_per_char();
      std::printf("nll %.6f\nbpc %.6f\nperplexity %.6f\n", nll, text::bits_per_char(nll), text::perplexity(nll));
      return 0;
    };
  });
}

}  // namespace tandem::cli
