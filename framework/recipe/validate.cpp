#include "framework/recipe/validate.h"

#include <fmt/format.h>

#include <filesystem>

#include "framework/core/nearest.h"

namespace tandem::recipe {
namespace {

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// yaml-cpp: a missing key of a const map is an *invalid* node, on which only
// IsDefined() may be asked; these helpers ask it first.
bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }
bool is_map(const YAML::Node& n) { return n.IsDefined() && n.IsMap(); }

/// How a value looks in a message: "-1", "'abc'", "a list", "a map".
std::string describe(const YAML::Node& node) {
  if (!present(node)) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  const std::string& s = node.Scalar();
  double d;
  if (YAML::convert<double>::decode(node, d)) return s;
  return "'" + s + "'";
}

class Validator {
 public:
  Validator(const Origin& origin, std::vector<std::string>& problems) : origin_(origin), problems_(problems) {}

  YAML::Node section(const Section& schema, const YAML::Node& in, const std::string& prefix,
                     const YAML::Mark& parent_mark) {
    YAML::Node out(YAML::NodeType::Map);
    if (present(in) && !in.IsMap()) {
      report(prefix, in.Mark(), fmt::format("expected a map of keys, got {}", describe(in)));
      return out;
    }
    const YAML::Mark mark = present(in) ? in.Mark() : parent_mark;
    const Section* variant = nullptr;
    if (schema.is_variant()) variant = select_variant(schema, in, prefix, mark, out);

    check_unknown_keys(schema, variant, in, prefix);
    const std::size_t before = problems_.size();
    fill(schema, in, prefix, mark, out);
    if (variant) fill(*variant, in, prefix, mark, out);
    // Cross-key rules need every key checked first; a key that failed its own
    // check is reported once, not again through a rule.
    if (problems_.size() == before && (!schema.is_variant() || variant)) {
      check_rules(schema, in, prefix, mark, out);
      if (variant) check_rules(*variant, in, prefix, mark, out);
    }
    return out;
  }

 private:
  void report(const std::string& path, const YAML::Mark& mark, const std::string& message) {
    problems_.push_back(fmt::format("{}: {}: {}", origin_.locate(path, mark), path.empty() ? "(top)" : path, message));
  }

  const Section* select_variant(const Section& schema, const YAML::Node& in, const std::string& prefix,
                                const YAML::Mark& mark, YAML::Node& out) {
    const std::string& sel = schema.selector();
    const std::string path = join_path(prefix, sel);
    std::vector<std::string> choices = schema.variant_choices();
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    YAML::Node value = is_map(in) ? in[sel] : YAML::Node();
    std::string choice;
    if (present(value)) {
      if (!value.IsScalar()) {
        report(path, value.Mark(), fmt::format("expected one of {}, got {}", list, describe(value)));
        return nullptr;
      }
      choice = value.Scalar();
    } else if (schema.default_choice()) {
      choice = *schema.default_choice();
    } else {
      report(path, mark, fmt::format("expected one of {}, got nothing (the key is required)", list));
      return nullptr;
    }
    const Section* variant = schema.variant(choice);
    if (!variant) {
      report(path, value.IsDefined() ? value.Mark() : mark,
             fmt::format("expected one of {}, got '{}'{}", list, choice, did_you_mean(choice, choices)));
      return nullptr;
    }
    out[sel] = choice;
    return variant;
  }

  void check_rules(const Section& schema, const YAML::Node& in, const std::string& prefix, const YAML::Mark& mark,
                   const YAML::Node& out) {
    for (const auto& rule : schema.rules()) {
      const auto problem = rule(out);
      if (!problem) continue;
      // The blamed key may be dotted ("data.context" from a rule of the whole recipe).
      YAML::Node value = in;
      YAML::Mark where = mark;
      std::size_t start = 0;
      while (is_map(value)) {
        const auto dot = problem->key.find('.', start);
        value = value[problem->key.substr(start, dot == std::string::npos ? std::string::npos : dot - start)];
        if (present(value)) where = value.Mark();
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      report(join_path(prefix, problem->key), where, problem->message);
    }
  }

  void check_unknown_keys(const Section& schema, const Section* variant, const YAML::Node& in,
                          const std::string& prefix) {
    if (!is_map(in)) return;
    std::vector<std::string> known;
    auto collect = [&known](const Section& s) {
      for (const auto& k : s.keys()) known.push_back(k.name());
      for (const auto& kv : s.sections()) known.push_back(kv.first);
    };
    collect(schema);
    if (schema.is_variant()) known.push_back(schema.selector());
    if (variant) collect(*variant);
    for (auto it = in.begin(); it != in.end(); ++it) {
      const std::string name = it->first.Scalar();
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      // A variant that failed to resolve hides its keys: don't pile on.
      if (schema.is_variant() && !variant) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      report(join_path(prefix, name), it->first.Mark(),
             fmt::format("expected a key of {} ({}), got unknown key '{}'{}", prefix.empty() ? "the recipe" : prefix,
                         list, name, did_you_mean(name, known)));
    }
  }

  void fill(const Section& schema, const YAML::Node& in, const std::string& prefix, const YAML::Mark& mark,
            YAML::Node& out) {
    for (const Key& key : schema.keys()) {
      const std::string path = join_path(prefix, key.name());
      YAML::Node value = is_map(in) ? in[key.name()] : YAML::Node();
      if (present(value)) {
        YAML::Node checked = leaf(key, value, path);
        if (checked.IsDefined()) out[key.name()] = checked;
      } else if (key.default_value()) {
        out[key.name()] = YAML::Clone(*key.default_value());
      } else if (!key.is_optional()) {
        report(path, mark, fmt::format("expected {}, got nothing (the key is required)", key.expectation()));
      }
    }
    for (const auto& [name, sub] : schema.sections()) {
      YAML::Node value = is_map(in) ? in[name] : YAML::Node();
      out[name] = section(*sub, value, join_path(prefix, name), mark);
    }
  }

  /// The checked, normalised value, or an undefined node after reporting.
  YAML::Node leaf(const Key& key, const YAML::Node& value, const std::string& path) {
    auto fail = [&](const std::string& extra = "") {
      report(path, value.Mark(), fmt::format("expected {}, got {}{}", key.expectation(), describe(value), extra));
      return YAML::Node(YAML::NodeType::Undefined);
    };
    if (key.type() == Type::kFloatList || key.type() == Type::kIntList) {
      if (!value.IsSequence()) return fail();
      YAML::Node list(YAML::NodeType::Sequence);
      for (const auto& item : value) {
        if (!item.IsScalar()) return fail();
        if (key.type() == Type::kIntList) {
          long long i;
          if (!YAML::convert<long long>::decode(item, i) || !key.in_range(static_cast<double>(i))) return fail();
          list.push_back(i);
          continue;
        }
        double d;
        if (!YAML::convert<double>::decode(item, d) || !key.in_range(d)) return fail();
        list.push_back(item.Scalar());
      }
      list.SetStyle(YAML::EmitterStyle::Flow);
      return list;
    }
    if (!value.IsScalar()) return fail();
    const std::string& text = value.Scalar();
    switch (key.type()) {
      case Type::kBool: {
        bool b;
        if (!YAML::convert<bool>::decode(value, b)) return fail();
        return YAML::Node(b);
      }
      case Type::kInt: {
        long long i;
        if (!YAML::convert<long long>::decode(value, i) || !key.in_range(static_cast<double>(i))) return fail();
        return YAML::Node(i);
      }
      case Type::kFloat: {
        double d;
        if (!YAML::convert<double>::decode(value, d) || !key.in_range(d)) return fail();
        return YAML::Node(text);
      }
      case Type::kString:
        return YAML::Node(text);
      case Type::kChoice: {
        const auto& choices = key.choice_list();
        if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
          const std::string* why = key.why_unavailable(text);
          return fail(why ? " (" + *why + ")" : did_you_mean(text, choices));
        }
        return YAML::Node(text);
      }
      case Type::kFile: {
        std::error_code ec;
        std::filesystem::path p(text);
        if (!std::filesystem::is_regular_file(p, ec)) {
          return fail(std::filesystem::exists(p, ec) ? " (not a regular file)" : " (no such file)");
        }
        return YAML::Node(std::filesystem::absolute(p).lexically_normal().string());
      }
      case Type::kFloatList:
      case Type::kIntList:
        break;
    }
    return fail();
  }

  const Origin& origin_;
  std::vector<std::string>& problems_;
};

}  // namespace

std::string Origin::locate(const std::string& path, const YAML::Mark& mark) const {
  // The longest overridden prefix of `path` wins: `ddp={...}` covers ddp.x.
  std::string probe = path;
  while (true) {
    auto it = overrides.find(probe);
    if (it != overrides.end()) return "override '" + it->second + "'";
    auto dot = probe.rfind('.');
    if (dot == std::string::npos) break;
    probe.resize(dot);
  }
  if (mark.is_null()) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

YAML::Node validate(const Section& schema, const YAML::Node& doc, const Origin& origin,
                    std::vector<std::string>& problems) {
  Validator v(origin, problems);
  return v.section(schema, doc, "", doc.Mark());
}

}  // namespace tandem::recipe
