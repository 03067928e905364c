#pragma once
/// SWEEP_DIR/sweep.json: what a sweep was run from (recipe, overrides, the
/// base point's resolved config and seed, the target) and its expanded points.
/// `tandem sweep` writes it before any point runs and compares it on a rerun;
/// `tandem report` reads it back.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/grid.h"

namespace tandem::sweep {

/// What sweep.json records about a sweep.
struct SweepRecord {
  std::string recipe;
  std::vector<std::string> overrides;
  std::string base_config;  ///< the base point's resolved config (YAML)
  uint64_t base_seed = 0;
  std::string target_metric;  ///< empty: none
  double target_value = 0.0;
  std::vector<SweepPoint> points;
};

/// Writes `sweep_dir`/sweep.json atomically.
void write_sweep_record(const std::filesystem::path& sweep_dir, const SweepRecord& record);
/// Reads `sweep_dir`/sweep.json; BadInput when there is none or it is damaged.
SweepRecord read_sweep_record(const std::filesystem::path& sweep_dir);

}  // namespace tandem::sweep
