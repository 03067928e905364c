#include "sweep/sweep_record.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "framework/core/error.h"
#include "framework/core/atomic_file.h"

namespace tandem::sweep {
namespace fs = std::filesystem;

void write_sweep_record(const fs::path& dir, const SweepRecord& r) {
  nlohmann::json j;
  j["recipe"] = r.recipe;
  j["overrides"] = r.overrides;
  j["base_config"] = r.base_config;
  j["base_seed"] = r.base_seed;
  j["target"] = {{"metric", r.target_metric}, {"value", r.target_value}};
  j["points"] = nlohmann::json::array();
  for (const auto& p : r.points) {
    j["points"].push_back({{"index", p.index}, {"combo", p.combo}, {"repeat", p.repeat}, {"name", p.name()},
                           {"keys", p.keys}, {"values", p.values}});
  }
  write_file_atomically(dir / "sweep.json", j.dump(2) + "\n");
}

SweepRecord read_sweep_record(const fs::path& dir) {
  std::ifstream in(dir / "sweep.json");
  if (!in) throw BadInput(fmt::format("{}: not a sweep directory (no sweep.json); run tandem sweep RECIPE first", dir.string()));
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("points")) throw BadInput(fmt::format("{}: sweep.json is damaged", dir.string()));
  SweepRecord r;
  r.recipe = j.value("recipe", "");
  r.overrides = j.value("overrides", std::vector<std::string>{});
  r.base_config = j.value("base_config", "");
  r.base_seed = j.value("base_seed", uint64_t{0});
  r.target_metric = j["target"].value("metric", "");
  r.target_value = j["target"].value("value", 0.0);
  for (const auto& p : j["points"]) {
    SweepPoint point;
    point.index = p.value("index", 0);
    point.combo = p.value("combo", 0);
    point.repeat = p.value("repeat", 0);
    point.keys = p.value("keys", std::vector<std::string>{});
    point.values = p.value("values", std::vector<std::string>{});
    r.points.push_back(std::move(point));
  }
  return r;
}

}  // namespace tandem::sweep
