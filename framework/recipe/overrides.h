#pragma once
/// Dotted command-line overrides: `optim.lr=0.004 trainer.epochs=2`.
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace tandem::recipe {

/// One parsed override: the key path and its value, parsed as YAML
/// (`a.b=[1,2]` sets a list).
struct Override {
  std::string path;
  YAML::Node value;
  std::string text;  ///< as typed, for error messages
};

/// Parses "a.b.c=value". A malformed override is a BadInput.
Override parse_override(const std::string& text);

/// True when `arg` looks like an override (contains '=' before any '/').
bool looks_like_override(const std::string& arg);

/// Sets each override into `doc`, creating maps on the way. Returns
/// path → text for Origin::overrides.
std::map<std::string, std::string> apply_overrides(YAML::Node& doc, const std::vector<Override>& overrides);

}  // namespace tandem::recipe
