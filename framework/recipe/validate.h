#pragma once
/// Strict validation of a recipe document against its schema, in one pass that
/// reports every problem, each as "file:line:col: key.path: message".
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "framework/recipe/schema.h"

namespace tandem::recipe {

/// Where recipe text came from: the file, and which key paths were set by
/// command-line overrides (so errors point at the override, not the file).
struct Origin {
  std::string file;
  std::map<std::string, std::string> overrides;  ///< dotted path → "a.b=value" as typed

  /// "recipes/x.yaml:12:5" for a key read from the file, "override 'a.b=1'"
  /// for one set on the command line.
  std::string locate(const std::string& path, const YAML::Mark& mark) const;
};

/// Checks `doc` against `schema`. Returns the resolved document: every key of
/// the schema present, defaults filled in, files made absolute. Problems are
/// appended to `problems`; the returned document is meaningful only if none were.
YAML::Node validate(const Section& schema, const YAML::Node& doc, const Origin& origin,
                    std::vector<std::string>& problems);

}  // namespace tandem::recipe
