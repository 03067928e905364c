// `tandem predict --checkpoint PATH --data FILE.csv [--output OUT.csv] [--risk]`:
// survival curves (or risk scores) of a survival model for the rows of a CSV file.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <numeric>

#include "data/survival/survival_csv.h"
#include "framework/core/error.h"
#include "framework/recipe/recipe.h"
#include "framework/train/model_checkpoint.h"
#include "tools/commands.h"

namespace tandem::cli {

void add_predict_command(CLI::App& app, Action& action) {
  struct Args {
    std::string checkpoint, data, output;
    bool risk = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("predict", "Survival curves (or risk scores) of a survival model for a CSV file.");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint file, or a run directory (its newest checkpoint)")
      ->required();
  cmd->add_option("--data", args->data, "CSV file with the training feature columns (outcome columns not needed)")
      ->required();
  cmd->add_option("--output", args->output, "Where to write the CSV (default: standard output)");
  cmd->add_flag("--risk", args->risk, "Write one risk score per row instead of survival curves");
  cmd->callback([&action, args] {
    action = [args] {
      const LoadedModel loaded = load_model_from_checkpoint(args->checkpoint);  // on the CPU
      const auto& path = loaded.path;
      const YAML::Node& config = loaded.config;
      auto& model = loaded.model;
      auto* predictor = &loaded.as<SurvivalPredictor>("predict survival");
      // The training data's encoding travels in the checkpoint: the training file is not read again.
      // Survival models keep it as YAML bytes in the buffer "feature_encoding" (models/survival/survival_net.h).
      std::string encoding_text;
      const auto buffers = model->named_buffers(/*recurse=*/false);
      if (const auto* bytes = buffers.find("feature_encoding")) {
        auto b = bytes->to(torch::kCPU, torch::kUInt8).contiguous();
        encoding_text.assign(reinterpret_cast<const char*>(b.data_ptr<uint8_t>()), static_cast<std::size_t>(b.numel()));
      }
      if (encoding_text.empty()) {
        throw BadInput(fmt::format("{}: the checkpoint holds no feature encoding (written before it was stored); "
                                   "train the model again to predict from it",
                                   path.string()));
      }
      const auto encoding = data::FeatureEncoding::from_yaml(encoding_text, path.string() + " (feature_encoding)");
      data::SurvivalCsvOptions options;  // the defaults: only `missing` matters for encoding new rows
      if (config["data"]["missing"]) options.impute = config["data"]["missing"].as<std::string>() == "impute";
      std::vector<std::string> text_columns;
      for (const auto& c : encoding.columns) {
        if (c.categorical) text_columns.push_back(c.name);
      }
      const auto file = data::read_survival_csv(args->data, text_columns);
      std::vector<std::size_t> rows(static_cast<std::size_t>(file.rows()));
      std::iota(rows.begin(), rows.end(), 0);
      auto table = data::encode_survival_csv(file, rows, encoding, options, /*with_outcome=*/false);

      torch::NoGradGuard no_grad;
      std::vector<int64_t> all(rows.size());
      std::iota(all.begin(), all.end(), 0);
      const Batch batch = table->get(all);
      const auto out = model->forward(batch);
      std::FILE* sink = args->output.empty() ? stdout : std::fopen(args->output.c_str(), "w");
      if (sink == nullptr) throw BadInput(fmt::format("--output {}: cannot write", args->output));
      if (args->risk) {
        const auto r = predictor->risk(out).to(torch::kCPU, torch::kFloat64).contiguous();
        const auto ra = r.accessor<double, 1>();
        std::fprintf(sink, "line,risk\n");
        for (std::size_t i = 0; i < rows.size(); ++i) {
          std::fprintf(sink, "%lld,%.9g\n", static_cast<long long>(file.line(static_cast<int64_t>(i))),
                       ra[static_cast<int64_t>(i)]);
        }
      } else {
        auto s = predictor->survival(out).to(torch::kCPU, torch::kFloat64).contiguous();
        const auto grid = predictor->time_grid().to(torch::kCPU, torch::kFloat64).contiguous();
        const auto ga = grid.accessor<double, 1>();
        std::fprintf(sink, "line");
        for (int64_t k = 0; k < grid.numel(); ++k) std::fprintf(sink, ",S(%.9g)", ga[k]);
        std::fprintf(sink, "\n");
        auto sa = s.accessor<double, 2>();
        for (std::size_t i = 0; i < rows.size(); ++i) {
          std::fprintf(sink, "%lld", static_cast<long long>(file.line(static_cast<int64_t>(i))));
          for (int64_t k = 0; k < s.size(1); ++k) std::fprintf(sink, ",%.6g", sa[static_cast<int64_t>(i)][k]);
          std::fprintf(sink, "\n");
        }
      }
      if (sink != stdout) std::fclose(sink);
      return 0;
    };
  });
}

}  // namespace tandem::cli
