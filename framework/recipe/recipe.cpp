#include "framework/recipe/recipe.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"
#include "framework/recipe/validate.h"

namespace tandem::recipe {

Resolved load_text(const std::string& text, const std::string& file, const std::vector<std::string>& overrides,
                   const Section& schema) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw BadInputList({fmt::format("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg)});
  }
  if (doc.IsNull() || !doc.IsDefined()) doc = YAML::Node(YAML::NodeType::Map);
  std::vector<std::string> problems;
  if (!doc.IsMap()) {
    throw BadInputList({fmt::format("{}: expected a map of sections (model, data, optim, ...), got a {}", file,
                                    doc.IsSequence() ? "list" : "scalar")});
  }
  YAML::Node sweep;
  if (doc["sweep"]) {
    sweep = doc["sweep"];
    doc.remove("sweep");
  }
  std::vector<Override> parsed;
  for (const auto& o : overrides) parsed.push_back(parse_override(o));
  Origin origin{file, apply_overrides(doc, parsed)};
  Resolved r;
  r.file = file;
  r.name = std::filesystem::path(file).stem().string();
  r.config = validate(schema, doc, origin, problems);
  r.sweep = sweep;
  if (!problems.empty()) throw BadInputList(problems);
  return r;
}

Resolved load(const std::string& file, const std::vector<std::string>& overrides, const Section& schema) {
  std::ifstream in(file);
  if (!in) throw BadInputList({file + ": cannot read the recipe (no such file, or no permission)"});
  std::stringstream text;
  text << in.rdbuf();
  return load_text(text.str(), file, overrides, schema);
}

std::string to_yaml(const YAML::Node& config) {
  YAML::Emitter out;
  out << config;
  return std::string(out.c_str()) + "\n";
}

}  // namespace tandem::recipe
