#pragma once
/// Loading a recipe: read the YAML file, apply overrides, validate against the
/// schema, and keep the resolved config that everything else reads.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "framework/recipe/overrides.h"
#include "framework/recipe/schema.h"

namespace tandem::recipe {

/// A recipe after validation: `config` holds every key with defaults filled in.
struct Resolved {
  std::string file;  ///< the recipe path as given
  std::string name;  ///< the recipe's stem, e.g. "char_lstm"
  YAML::Node config;
  /// The recipe's `sweep:` block as written (a grid for `tandem sweep`), or
  /// a null node. It is taken out before validation: a single run of
  /// the recipe is its base point.
  YAML::Node sweep;
};

/// Loads and validates. Throws BadInputList with every problem found
/// (YAML syntax, unknown keys, types, ranges, missing files).
Resolved load(const std::string& file, const std::vector<std::string>& overrides, const Section& schema);

/// Same, from YAML text already in memory (`file` is used in messages only).
Resolved load_text(const std::string& text, const std::string& file, const std::vector<std::string>& overrides,
                   const Section& schema);

/// The resolved config as YAML text.
std::string to_yaml(const YAML::Node& config);

}  // namespace tandem::recipe
