#include "framework/recipe/schema.h"

#include <fmt/format.h>

#include <stdexcept>

#include "framework/core/error.h"

namespace tandem::recipe {

std::string type_name(Type type) {
  switch (type) {
    case Type::kBool: return "bool";
    case Type::kInt: return "integer";
    case Type::kFloat: return "number";
    case Type::kString: return "string";
    case Type::kChoice: return "choice";
    case Type::kFile: return "file";
    case Type::kFloatList: return "list of numbers";
    case Type::kIntList: return "list of integers";
  }
  return "?";
}

Key::Key(std::string name, Type type, std::string doc)
    : name_(std::move(name)), type_(type), doc_(std::move(doc)) {}

Key& Key::def(double value) {
  default_ = YAML::Node(fmt::format("{}", value));
  return *this;
}

Key& Key::def(const std::vector<double>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (double v : values) list.push_back(fmt::format("{}", v));
  list.SetStyle(YAML::EmitterStyle::Flow);
  default_ = list;
  return *this;
}

Key& Key::def(const std::vector<int64_t>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (int64_t v : values) list.push_back(v);
  list.SetStyle(YAML::EmitterStyle::Flow);
  default_ = list;
  return *this;
}

bool Key::in_range(double v) const {
  if (min_ && (min_exclusive_ ? !(v > *min_) : !(v >= *min_))) return false;
  if (max_ && (max_exclusive_ ? !(v < *max_) : !(v <= *max_))) return false;
  return true;
}

std::string Key::expectation() const {
  std::string base;
  switch (type_) {
    case Type::kBool: return "true or false";
    case Type::kString: return "a string";
    case Type::kFile: return "a path to an existing file";
    case Type::kChoice: {
      std::string list;
      for (const auto& c : choices_) list += (list.empty() ? "" : ", ") + c;
      return "one of " + list;
    }
    case Type::kInt: base = "an integer"; break;
    case Type::kFloat: base = "a number"; break;
    case Type::kFloatList: base = "a list of numbers"; break;
    case Type::kIntList: base = "a list of integers"; break;
  }
  auto num = [](double v) { return fmt::format("{:g}", v); };
  if (min_ && max_) {
    base += fmt::format(" in {}{}, {}{}", min_exclusive_ ? "(" : "[", num(*min_), num(*max_),
                        max_exclusive_ ? ")" : "]");
  } else if (min_) {
    base += fmt::format(" {} {}", min_exclusive_ ? ">" : ">=", num(*min_));
  } else if (max_) {
    base += fmt::format(" {} {}", max_exclusive_ ? "<" : "<=", num(*max_));
  }
  return base;
}

Key& Section::add(const std::string& name, Type type, const std::string& doc) {
  TANDEM_CHECK(!find_key(name) && !find_section(name), "recipe", "key '{}' declared twice", name);
  keys_.emplace_back(name, type, doc);
  return keys_.back();
}

Section& Section::section(const std::string& name, const std::string& doc) {
  adopt(name, Section(doc));
  return *sections_.back().second;
}

void Section::adopt(const std::string& name, Section section) {
  TANDEM_CHECK(!find_key(name) && !find_section(name), "recipe", "key '{}' declared twice", name);
  sections_.emplace_back(name, std::make_shared<Section>(std::move(section)));
}

void Section::make_variant(std::string selector, VariantLookup lookup, VariantChoices choices,
                           std::optional<std::string> default_choice) {
  selector_ = std::move(selector);
  lookup_ = std::move(lookup);
  choices_ = std::move(choices);
  default_choice_ = std::move(default_choice);
}

const Key* Section::find_key(const std::string& name) const {
  for (const auto& k : keys_) {
    if (k.name() == name) return &k;
  }
  return nullptr;
}

const Section* Section::find_section(const std::string& name) const {
  for (const auto& [n, s] : sections_) {
    if (n == name) return s.get();
  }
  return nullptr;
}

}  // namespace tandem::recipe
