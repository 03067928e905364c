#include "tools/recipe_schema.h"

#include <fmt/format.h>

#include "framework/ddp/options_schema.h"
#include "framework/dist/communicator.h"
#include "framework/train/dataset.h"
#include "framework/train/model.h"
#include "framework/train/options.h"
#include "framework/train/schedule.h"
#include "framework/core/error.h"
#include "launch/launch_options.h"

namespace tandem::cli {
namespace {

/// A `type:`-selected section whose choices come from a registry.
template <typename Entry>
recipe::Section registry_section(Registry<Entry>& registry, const std::string& doc) {
  // Each entry's schema is built once, on first use, and kept for the process.
  auto cache = std::make_shared<std::map<std::string, recipe::Section>>();
  recipe::Section s(doc);
  s.make_variant(
      "type",
      [&registry, cache](const std::string& name) -> const recipe::Section* {
        if (!registry.contains(name)) return nullptr;
        auto it = cache->find(name);
        if (it == cache->end()) it = cache->emplace(name, registry.get(name).schema()).first;
        return &it->second;
      },
      [&registry] { return registry.names(); });
  return s;
}

}  // namespace

const recipe::Section& recipe_schema() {
  static const recipe::Section schema = [] {
    recipe::Section root("A Tandem recipe.");
    root.add("name", recipe::Type::kString, "Run name; default: the recipe file's stem.").optional();
    root.adopt("model", registry_section(model_registry(), "The model; `type` names a registered model."));
    root.adopt("data", registry_section(dataset_registry(), "The data set; `type` names a registered dataset."));
    root.adopt("optim", optim_schema());
    root.adopt("trainer", trainer_schema());
    root.adopt("ddp", ddp::ddp_schema());
    root.adopt("launch", launch::launch_schema(dist::available_backends()));
    // A model that reads fixed windows and a data set that cuts them must agree (char_lstm and names).
    root.rule([](const YAML::Node& r) -> std::optional<recipe::Section::Problem> {
      const auto model = r["model"]["context"], data = r["data"]["context"];
      if (!model || !data || model.as<int64_t>() == data.as<int64_t>()) return std::nullopt;
      return recipe::Section::Problem{
          "data.context", fmt::format("expected model.context's value {}, got {}", model.as<int64_t>(),
                                      data.as<int64_t>())};
    });
    root.rule([](const YAML::Node& r) -> std::optional<recipe::Section::Problem> {
      const auto model = r["model"]["windows"], data = r["data"]["windows"];
      if (!model || !data || model.as<std::string>() == data.as<std::string>()) return std::nullopt;
      return recipe::Section::Problem{
          "data.windows", fmt::format("expected model.windows's value {}, got {}", model.as<std::string>(),
                                      data.as<std::string>())};
    });
    // The global batch splits evenly over the world the launcher will start (`tandem train` under
    // another launcher checks its own world again when it resolves the scaling).
    root.rule([](const YAML::Node& r) -> std::optional<recipe::Section::Problem> {
      const auto workers = r["launch"]["nproc_per_node"].as<int64_t>() * r["launch"]["nnodes"].as<int64_t>();
      auto problem = global_batch_problem(r["trainer"]["global_batch_size"].as<int64_t>(), workers,
                                          r["trainer"]["accumulate_steps"].as<int64_t>());
      if (problem.empty()) return std::nullopt;
      return recipe::Section::Problem{"trainer.global_batch_size", std::move(problem)};
    });
    return root;
  }();
  return schema;
}

recipe::Resolved load_recipe(const std::string& file, const std::vector<std::string>& overrides) {
  auto resolved = recipe::load(file, overrides, recipe_schema());
  if (resolved.config["name"]) resolved.name = resolved.config["name"].as<std::string>();
  return resolved;
}

}  // namespace tandem::cli
