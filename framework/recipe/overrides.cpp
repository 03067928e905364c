#include "framework/recipe/overrides.h"

#include <sstream>

#include "framework/core/error.h"

namespace tandem::recipe {

bool looks_like_override(const std::string& arg) {
  auto eq = arg.find('=');
  return eq != std::string::npos && eq > 0 && arg.find('/') > eq;
}

Override parse_override(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw BadInput("override '" + text + "': expected key.path=value, e.g. optim.lr=0.004");
  }
  Override o;
  o.text = text;
  o.path = text.substr(0, eq);
  std::stringstream parts(o.path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (part.empty()) throw BadInput("override '" + text + "': empty key in path '" + o.path + "'");
  }
  if (o.path.back() == '.') throw BadInput("override '" + text + "': empty key in path '" + o.path + "'");
  const std::string value = text.substr(eq + 1);
  try {
    o.value = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw BadInput("override '" + text + "': the value is not valid YAML: " + e.msg);
  }
  if (!o.value.IsDefined() || o.value.IsNull()) o.value = YAML::Node(value);
  return o;
}

std::map<std::string, std::string> apply_overrides(YAML::Node& doc, const std::vector<Override>& overrides) {
  std::map<std::string, std::string> origin;
  if (!doc.IsMap()) doc = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) {
    std::vector<std::string> keys;
    std::stringstream parts(o.path);
    std::string part;
    while (std::getline(parts, part, '.')) keys.push_back(part);
    YAML::Node cursor = doc;  // yaml-cpp nodes are handles: reset() moves the handle
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
      YAML::Node child = cursor[keys[i]];
      if (!child.IsMap()) {
        cursor[keys[i]] = YAML::Node(YAML::NodeType::Map);
        child.reset(cursor[keys[i]]);
      }
      cursor.reset(child);
    }
    cursor[keys.back()] = YAML::Clone(o.value);
    origin[o.path] = o.text;
  }
  return origin;
}

}  // namespace tandem::recipe
