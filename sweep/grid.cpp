#include "sweep/grid.h"

#include <fmt/format.h>

#include <set>

#include "framework/core/error.h"

namespace tandem::sweep {
namespace {

std::string at(const std::string& file, const YAML::Mark& mark) {
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

std::string yaml_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

/// The last part of a dotted key: what a directory name shows.
std::string short_key(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

/// Keeps a value usable in a file name.
std::string file_safe(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '+';
    out += plain ? c : '_';
  }
  return out;
}

}  // namespace

SweepSpec parse_sweep(const YAML::Node& block, const std::string& file) {
  std::vector<std::string> problems;
  SweepSpec spec;
  if (!block.IsMap()) {
    throw BadInputList({fmt::format("{}: sweep: expected a map with `grid` (and optionally `repeats`), got a {}",
                                    at(file, block.Mark()), block.IsSequence() ? "list" : "scalar")});
  }
  for (const auto& kv : block) {
    const auto name = kv.first.as<std::string>();
    if (name != "grid" && name != "repeats") {
      problems.push_back(fmt::format("{}: sweep.{}: unknown key; expected grid or repeats", at(file, kv.first.Mark()), name));
    }
  }
  if (const YAML::Node repeats = block["repeats"]) {
    int value = 0;
    try {
      value = repeats.as<int>();
    } catch (const YAML::Exception&) {
      value = 0;
    }
    if (value < 1) {
      problems.push_back(fmt::format("{}: sweep.repeats: expected an integer >= 1, got '{}'", at(file, repeats.Mark()),
                                     yaml_text(repeats)));
    }
    spec.repeats = std::max(value, 1);
  }
  const YAML::Node grid = block["grid"];
  if (!grid || !grid.IsMap() || grid.size() == 0) {
    problems.push_back(fmt::format("{}: sweep.grid: expected a map of recipe keys to lists of values, e.g. "
                                   "`optim.lr: [0.001, 0.004]`, got {}",
                                   at(file, grid ? grid.Mark() : block.Mark()), grid ? yaml_text(grid) : "nothing"));
  } else {
    std::set<std::string> seen;
    for (const auto& kv : grid) {
      GridAxis axis;
      axis.key = kv.first.as<std::string>();
      const std::string where = at(file, kv.first.Mark());
      if (!seen.insert(axis.key).second) {
        problems.push_back(fmt::format("{}: sweep.grid.{}: the key appears twice", where, axis.key));
        continue;
      }
      if (axis.key.rfind("sweep.", 0) == 0) {
        problems.push_back(fmt::format("{}: sweep.grid.{}: a sweep cannot vary its own settings", where, axis.key));
        continue;
      }
      const YAML::Node values = kv.second;
      if (!values.IsSequence() || values.size() == 0) {
        problems.push_back(fmt::format("{}: sweep.grid.{}: expected a non-empty list of values, got {}",
                                       at(file, values.Mark()), axis.key, yaml_text(values)));
        continue;
      }
      for (const auto& v : values) {
        axis.values.push_back(yaml_text(v));
        axis.where.push_back(at(file, v.Mark()));
      }
      spec.grid.push_back(std::move(axis));
    }
  }
  if (!problems.empty()) throw BadInputList(problems);
  return spec;
}

std::vector<SweepPoint> expand(const SweepSpec& spec) {
  std::vector<SweepPoint> points;
  size_t combos = 1;
  for (const auto& axis : spec.grid) combos *= axis.values.size();
  for (size_t c = 0; c < combos; ++c) {
    // Mixed-radix digits of c, the last axis varying fastest.
    std::vector<size_t> pick(spec.grid.size());
    size_t rest = c;
    for (size_t a = spec.grid.size(); a-- > 0;) {
      pick[a] = rest % spec.grid[a].values.size();
      rest /= spec.grid[a].values.size();
    }
    for (int r = 0; r < spec.repeats; ++r) {
      SweepPoint p;
      p.index = static_cast<int>(points.size());
      p.combo = static_cast<int>(c);
      p.repeat = r;
      for (size_t a = 0; a < spec.grid.size(); ++a) {
        p.keys.push_back(spec.grid[a].key);
        p.values.push_back(spec.grid[a].values[pick[a]]);
        p.where.push_back(spec.grid[a].where[pick[a]]);
      }
      points.push_back(std::move(p));
    }
  }
  return points;
}

uint64_t SweepPoint::seed(uint64_t base_seed) const {
  for (size_t a = 0; a < keys.size(); ++a) {
    if (keys[a] != "trainer.seed") continue;
    try {
      base_seed = std::stoull(values[a]);
    } catch (const std::exception&) {
      // Not a number: validating the point names it.
    }
  }
  return base_seed + static_cast<uint64_t>(repeat);
}

std::vector<std::string> SweepPoint::overrides(uint64_t base_seed) const {
  std::vector<std::string> out;
  for (size_t a = 0; a < keys.size(); ++a) {
    if (keys[a] != "trainer.seed") out.push_back(keys[a] + "=" + values[a]);
  }
  out.push_back(fmt::format("trainer.seed={}", seed(base_seed)));
  return out;
}

std::string SweepPoint::name() const {
  std::string out = fmt::format("p{:03d}", combo);
  for (size_t a = 0; a < keys.size(); ++a) out += "-" + file_safe(short_key(keys[a])) + "=" + file_safe(values[a]);
  return out + fmt::format("-r{}", repeat);
}

std::string SweepPoint::label() const {
  std::string out;
  for (size_t a = 0; a < keys.size(); ++a) out += (out.empty() ? "" : " ") + short_key(keys[a]) + "=" + values[a];
  return out + fmt::format(" repeat {}", repeat);
}

}  // namespace tandem::sweep
