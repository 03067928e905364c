#pragma once
/// The description of what a recipe may contain: sections of typed keys with
/// defaults, ranges and documentation. Validation (validate.h) checks a YAML
/// document against it; the docs' recipe reference is written from it too.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tandem::recipe {

enum class Type {
  kBool,
  kInt,
  kFloat,
  kString,
  kChoice,     ///< a string from a fixed list
  kFile,       ///< path to an existing regular file; stored absolute once resolved
  kFloatList,  ///< a list of numbers, range checked element by element
  kIntList,    ///< a list of integers, range checked element by element
};

std::string type_name(Type type);

/// One leaf key of a section.
class Key {
 public:
  Key(std::string name, Type type, std::string doc);

  /// Default used when the key is absent. Without one the key is required,
  /// unless optional() is called.
  template <typename T>
  Key& def(const T& value) {
    default_ = YAML::Node(value);
    return *this;
  }
  /// Floating-point defaults are stored in their shortest exact form.
  Key& def(double value);
  Key& def(const std::vector<double>& values);
  Key& def(const std::vector<int64_t>& values);
  Key& optional() { optional_ = true; return *this; }
  /// A model key that changes how a trained model scores, not what it learns
  /// or the shape of its parameters (char_lstm's calibration_temperature):
  /// `tandem eval` accepts it as an override of a checkpoint's model.
  Key& inference_only() { inference_only_ = true; return *this; }
  /// No default: the recipe must set the key (a binding's key otherwise
  /// defaults to its field's value in a default-constructed struct).
  Key& required() {
    default_.reset();
    optional_ = false;
    return *this;
  }
  Key& min(double v) { min_ = v; min_exclusive_ = false; return *this; }
  Key& greater_than(double v) { min_ = v; min_exclusive_ = true; return *this; }
  Key& max(double v) { max_ = v; max_exclusive_ = false; return *this; }
  Key& less_than(double v) { max_ = v; max_exclusive_ = true; return *this; }
  Key& choices(std::vector<std::string> c) { choices_ = std::move(c); return *this; }
  /// A value that exists in general but not in this build, with the reason
  /// ("nccl" on a CPU-only LibTorch); it is rejected with that reason.
  Key& unavailable(const std::string& value, const std::string& why) {
    unavailable_[value] = why;
    return *this;
  }
  /// The reason `value` is unavailable, or nullptr.
  const std::string* why_unavailable(const std::string& value) const {
    auto it = unavailable_.find(value);
    return it == unavailable_.end() ? nullptr : &it->second;
  }

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::string& doc() const { return doc_; }
  const std::optional<YAML::Node>& default_value() const { return default_; }
  bool is_optional() const { return optional_; }
  bool is_inference_only() const { return inference_only_; }
  const std::vector<std::string>& choice_list() const { return choices_; }

  /// "a number > 0", "an integer in [1, 64]", "one of adam, sgd", ...
  std::string expectation() const;

  /// Checks a scalar range; returns false when `v` is outside.
  bool in_range(double v) const;

 private:
  std::string name_;
  Type type_;
  std::string doc_;
  std::optional<YAML::Node> default_;
  bool optional_ = false;
  bool inference_only_ = false;
  std::optional<double> min_, max_;
  bool min_exclusive_ = false, max_exclusive_ = false;
  std::vector<std::string> choices_;
  std::map<std::string, std::string> unavailable_;
};

/// A map of keys and nested sections. A section may be a *variant*: its key
/// `selector` (e.g. `type`) picks which further keys are allowed, looked up
/// through a callback (the model and dataset registries do this).
class Section {
 public:
  explicit Section(std::string doc = "") : doc_(std::move(doc)) {}

  Key& add(const std::string& name, Type type, const std::string& doc);
  Section& section(const std::string& name, const std::string& doc);
  /// Adds an already built section (from another layer) under `name`.
  void adopt(const std::string& name, Section section);

  using VariantLookup = std::function<const Section*(const std::string&)>;
  using VariantChoices = std::function<std::vector<std::string>()>;
  void make_variant(std::string selector, VariantLookup lookup, VariantChoices choices,
                    std::optional<std::string> default_choice = std::nullopt);

  /// A check that spans several keys of this section ("fold < folds"). It sees
  /// the section with defaults filled in and returns nothing when the values
  /// agree, else the key to blame (dotted for a nested one) and the message
  /// ("expected ..., got ...").
  /// Rules run only when every key of the section passed its own check.
  struct Problem {
    std::string key;
    std::string message;
  };
  using Rule = std::function<std::optional<Problem>(const YAML::Node& resolved)>;
  void rule(Rule check) { rules_.push_back(std::move(check)); }
  const std::vector<Rule>& rules() const { return rules_; }

  const std::string& doc() const { return doc_; }
  const std::vector<Key>& keys() const { return keys_; }
  const std::vector<std::pair<std::string, std::shared_ptr<Section>>>& sections() const { return sections_; }
  const Key* find_key(const std::string& name) const;
  const Section* find_section(const std::string& name) const;

  bool is_variant() const { return !selector_.empty(); }
  const std::string& selector() const { return selector_; }
  const Section* variant(const std::string& choice) const { return lookup_ ? lookup_(choice) : nullptr; }
  std::vector<std::string> variant_choices() const { return choices_ ? choices_() : std::vector<std::string>{}; }
  const std::optional<std::string>& default_choice() const { return default_choice_; }

 private:
  std::string doc_;
  std::vector<Key> keys_;
  std::vector<std::pair<std::string, std::shared_ptr<Section>>> sections_;
  std::string selector_;
  VariantLookup lookup_;
  VariantChoices choices_;
  std::optional<std::string> default_choice_;
  std::vector<Rule> rules_;
};

}  // namespace tandem::recipe
