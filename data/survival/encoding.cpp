#include "data/survival/encoding.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "framework/core/error.h"

namespace tandem::data {

std::vector<std::string> FeatureEncoding::feature_names() const {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    if (!c.categorical) {
      out.push_back(c.name);
    } else {
      for (const auto& level : c.levels) out.push_back(c.name + "=" + level);
    }
  }
  return out;
}

FeatureEncoding FeatureEncoding::numeric(const std::vector<std::string>& names) {
  FeatureEncoding e;
  for (const auto& n : names) e.columns.push_back({n, false, 0.0, {}});
  return e;
}

std::string FeatureEncoding::to_yaml() const {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::BeginSeq;
  for (const auto& c : columns) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << c.name;
    if (c.categorical) {
      out << YAML::Key << "levels" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& l : c.levels) out << YAML::DoubleQuoted << l;
      out << YAML::EndSeq;
    } else {
      out << YAML::Key << "mean" << YAML::Value << c.mean;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  return out.c_str();
}

FeatureEncoding FeatureEncoding::from_yaml(const std::string& text, const std::string& where) {
  FeatureEncoding e;
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsSequence()) throw YAML::Exception(YAML::Mark(), "not a sequence");
    for (const auto& n : root) {
      Column c;
      c.name = n["name"].as<std::string>();
      if (n["levels"]) {
        c.categorical = true;
        c.levels = n["levels"].as<std::vector<std::string>>();
      } else {
        c.mean = n["mean"].as<double>();
      }
      e.columns.push_back(std::move(c));
    }
  } catch (const YAML::Exception& ex) {
    throw BadInput(fmt::format("{}: expected a feature encoding (a YAML list of columns), got text that does not "
                               "parse as one: {}",
                               where, ex.what()));
  }
  return e;
}

}  // namespace tandem::data
