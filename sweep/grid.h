#pragma once
/// A recipe's `sweep:` block and the points it expands to.
///
///   sweep:
///     grid:                          # every combination, in this order
///       launch.nproc_per_node: [1, 2]
///       trainer.batch_size: [64, 256]
///       optim.lr: [0.002, 0.004]
///     repeats: 2                     # seeds per point: trainer.seed + 0, + 1, ...
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::sweep {

struct GridAxis {
  std::string key;                  ///< dotted recipe key, e.g. optim.lr
  std::vector<std::string> values;  ///< each as YAML text, e.g. "0.004", "[1, 2]"
  std::vector<std::string> where;   ///< file:line:col of each value, for messages
};

struct SweepSpec {
  std::vector<GridAxis> grid;
  int repeats = 1;
};

/// Parses the block. BadInputList names file:line and the key for each problem
/// (not a map, an empty list, a repeated key, repeats < 1, an unknown key).
SweepSpec parse_sweep(const YAML::Node& block, const std::string& file);

/// One run of the sweep: a combination of grid values and a repeat.
struct SweepPoint {
  int index = 0;   ///< position in the expanded list, 0-based
  int combo = 0;   ///< which grid combination (repeats of it share this)
  int repeat = 0;
  std::vector<std::string> keys, values, where;  ///< one entry per grid axis

  /// The overrides that make this point from the base recipe, trainer.seed
  /// included (`base_seed` is the base recipe's).
  std::vector<std::string> overrides(uint64_t base_seed) const;
  /// This run's trainer.seed: the swept seed (or `base_seed`) + repeat.
  uint64_t seed(uint64_t base_seed) const;
  /// "p003-nproc_per_node=2-batch_size=256-lr=0.004-r1": a directory name.
  std::string name() const;
  /// "nproc_per_node=2 batch_size=256 lr=0.004 repeat 1", for messages.
  std::string label() const;
};

/// Every combination (the first axis varies slowest), each `repeats` times.
std::vector<SweepPoint> expand(const SweepSpec& spec);

}  // namespace tandem::sweep
