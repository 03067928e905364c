#pragma once
/// One declaration per option: a recipe key bound to the field of an options
/// struct that holds it. The key's default is that field's value in a
/// default-constructed struct, so the struct is the one place a default is
/// written; the schema (what `tandem validate` checks and the docs list), the
/// reader (resolved YAML to struct) and the writer (struct to YAML) all come
/// from the same bindings.
///
///   recipe::Binding<CsvOptions> b("The CSV data set.");
///   b.key("label", &CsvOptions::label, "Name of the label column.");
///   b.key("val_fraction", &CsvOptions::val_fraction, "Share held out.").min(0).less_than(1);
///   recipe::Section schema = b.schema();
///   CsvOptions options = b.read(resolved);   // after validate() filled the defaults in
///
/// The key's type follows the field's: integers are Type::kInt, floating
/// point kFloat, bool kBool, std::string kString (choice() and file() give
/// kChoice and kFile), std::vector<double> kFloatList, std::vector<int64_t>
/// kIntList; an enum is a kChoice through enumeration(), which names the word
/// of each value. A std::optional field is an optional key without a
/// default; optional() binds a plain field whose struct default means "not
/// given" (an empty metric name, a NaN) the same way. A field that is not a plain member
/// (a nested struct's, or one the recipe spells differently) is bound
/// through an accessor, a callable taking the struct and returning a
/// reference to the field.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "framework/recipe/schema.h"

namespace tandem::recipe {

namespace binding_detail {

template <typename T>
struct Unoptional {
  using type = T;
  static constexpr bool optional = false;
};
template <typename T>
struct Unoptional<std::optional<T>> {
  using type = T;
  static constexpr bool optional = true;
};

/// The recipe type of a field of type T (std::optional stripped).
template <typename T>
constexpr Type type_of() {
  if constexpr (std::is_same_v<T, bool>) {
    return Type::kBool;
  } else if constexpr (std::is_integral_v<T>) {
    return Type::kInt;
  } else if constexpr (std::is_floating_point_v<T>) {
    return Type::kFloat;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return Type::kString;
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    return Type::kIntList;
  } else {
    static_assert(std::is_same_v<T, std::vector<double>>,
                  "a bound field is bool, an integer, floating point, std::string, std::vector<int64_t> or "
                  "std::vector<double>");
    return Type::kFloatList;
  }
}

/// The type a field holds: an accessor's result, or a member pointer's member.
template <typename Options, typename Field>
struct FieldOf {
  using type = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<Field, Options&>>>;
};
template <typename Options, typename T>
struct FieldOf<Options, T Options::*> {
  using type = T;
};

/// "a, b" as {"a", "b"}; blanks around each name dropped, empty names too.
inline std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const auto first = item.find_first_not_of(" \t");
    if (first != std::string::npos) names.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return names;
}

/// {"a", "b"} as "a, b".
inline std::string join_names(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

/// Whether two values of a field are the same, NaN equal to NaN.
template <typename T>
bool same(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) && std::isnan(b)) return true;
  }
  return a == b;
}

}  // namespace binding_detail

template <typename Options>
class Binding {
 public:
  explicit Binding(std::string doc) : Binding(Section(std::move(doc))) {}
  /// Keys bound on top of the keys `base` already has (declared elsewhere,
  /// such as a registered optimizer's own).
  explicit Binding(Section base) : state_(std::make_shared<State>()) {
    state_->owner = std::make_shared<Section>(std::move(base));
    state_->section = state_->owner.get();
  }

  /// A key held in `field`: a member pointer (`&Options::lr`) or an accessor
  /// (`[](Options& o) -> double& { return o.penalty.lambda; }`).
  template <typename Field>
  Key& key(const std::string& name, Field field, const std::string& doc) {
    return bind(name, std::nullopt, accessor(field), doc);
  }
  /// A string key whose value is one of `choices`.
  template <typename Field>
  Key& choice(const std::string& name, Field field, const std::string& doc, std::vector<std::string> choices) {
    return bind(name, Type::kChoice, accessor(field), doc).choices(std::move(choices));
  }
  /// A string key naming an existing file (made absolute by validation).
  template <typename Field>
  Key& file(const std::string& name, Field field, const std::string& doc) {
    return bind(name, Type::kFile, accessor(field), doc);
  }

  /// The type a field (member pointer or accessor) holds.
  template <typename Field>
  using FieldType = typename binding_detail::FieldOf<Options, Field>::type;

  /// A field the recipe spells as a value of another type `Recipe` (a
  /// word for an enum, a comma-separated string for a list of names): `parse`
  /// turns the recipe's value into the field's, `spell` the field's into the
  /// recipe's, and the key's default is the spelling of the struct's value.
  template <typename Recipe, typename Field, typename Parse, typename Spell>
  Key& spelled(const std::string& name, Field field, const std::string& doc, Parse parse, Spell spell,
               std::optional<Type> type = std::nullopt) {
    auto access = accessor(field);
    Options defaults;
    Key& key = state_->section->add(name, type.value_or(binding_detail::type_of<Recipe>()), doc);
    key.def(Recipe(spell(access(defaults))));
    state_->readers.push_back([name, access, parse](const YAML::Node& n, Options& o) {
      const YAML::Node value = n[name];
      if (value && !value.IsNull()) access(o) = parse(value.template as<Recipe>());
    });
    state_->writers.push_back([name, access, spell](const Options& o, YAML::Node& n) {
      n[name] = Recipe(spell(access(const_cast<Options&>(o))));
    });
    return key;
  }

  /// An enum key: the recipe spells each value with its word in `words`
  /// (`{{"min", Goal::kMin}, {"max", Goal::kMax}}`); validation refuses any
  /// other word.
  template <typename Field>
  Key& enumeration(const std::string& name, Field field, const std::string& doc,
                   std::vector<std::pair<std::string, FieldType<Field>>> words) {
    using Enum = FieldType<Field>;
    auto table = std::make_shared<const std::vector<std::pair<std::string, Enum>>>(std::move(words));
    auto parse = [table, name](const std::string& word) {
      for (const auto& [w, value] : *table) {
        if (w == word) return value;
      }
      throw std::logic_error("recipe key '" + name + "': '" + word + "' passed validation but has no value");
    };
    auto spell = [table, name](Enum value) -> std::string {
      for (const auto& [word, v] : *table) {
        if (v == value) return word;
      }
      throw std::logic_error("recipe key '" + name + "': an enum value without a word");
    };
    std::vector<std::string> choices;
    for (const auto& entry : *table) choices.push_back(entry.first);
    return spelled<std::string>(name, field, doc, parse, spell, Type::kChoice).choices(std::move(choices));
  }

  /// A list of names the recipe spells comma-separated ("age, sex"; blanks
  /// around a name dropped, empty: no names).
  template <typename Field>
  Key& name_list(const std::string& name, Field field, const std::string& doc) {
    return spelled<std::string>(name, field, doc, binding_detail::split_names, binding_detail::join_names);
  }

  /// An optional key held in a plain field whose struct default means "not
  /// given": absent from the recipe, the field keeps that default; the
  /// writer leaves the key out while the field holds it.
  template <typename Field>
  Key& optional(const std::string& name, Field field, const std::string& doc) {
    using Value = FieldType<Field>;
    auto access = accessor(field);
    Key& key = state_->section->add(name, binding_detail::type_of<Value>(), doc).optional();
    state_->readers.push_back([name, access](const YAML::Node& n, Options& o) {
      const YAML::Node value = n[name];
      if (value && !value.IsNull()) access(o) = value.template as<Value>();
    });
    state_->writers.push_back([name, access](const Options& o, YAML::Node& n) {
      Options defaults;
      const Value& value = access(const_cast<Options&>(o));
      if (!binding_detail::same(value, access(defaults))) n[name] = value;
    });
    return key;
  }

  /// A nested section held in `field`, a struct of its own; add its keys to
  /// the returned binding.
  template <typename Sub>
  Binding<Sub> section(const std::string& name, Sub Options::*field, const std::string& doc) {
    Binding<Sub> child(state_->owner, state_->section->section(name, doc));
    auto child_state = child.state_;
    state_->readers.push_back([name, field, child_state](const YAML::Node& n, Options& o) {
      Binding<Sub>::read_into(*child_state, n[name], o.*field);
    });
    state_->writers.push_back([name, field, child_state](const Options& o, YAML::Node& n) {
      n[name] = Binding<Sub>::write_from(*child_state, o.*field);
    });
    return child;
  }

  /// A check over several keys of this section (Section::rule).
  void rule(Section::Rule check) { state_->section->rule(std::move(check)); }

  /// What the recipe may hold here: every bound key, with its default.
  const Section& schema() const { return *state_->section; }

  /// The options from a section that validation resolved (defaults filled
  /// in). Fields without a key, and keys absent from the section (a stored
  /// configuration older than the key), keep their struct default.
  Options read(const YAML::Node& resolved) const {
    Options o;
    read_into(*state_, resolved, o);
    return o;
  }
  /// The bound fields of `options` as a recipe section (absent optionals left out).
  YAML::Node write(const Options& options) const { return write_from(*state_, options); }

 private:
  template <typename>
  friend class Binding;


  struct State {
    std::shared_ptr<Section> owner;  // the root section, which owns the nested ones
    Section* section = nullptr;
    std::vector<std::function<void(const YAML::Node&, Options&)>> readers;
    std::vector<std::function<void(const Options&, YAML::Node&)>> writers;
  };

  Binding(std::shared_ptr<Section> owner, Section& section) : state_(std::make_shared<State>()) {
    state_->owner = std::move(owner);
    state_->section = &section;
  }

  static void read_into(const State& state, const YAML::Node& n, Options& o) {
    for (const auto& read : state.readers) read(n, o);
  }
  static YAML::Node write_from(const State& state, const Options& o) {
    YAML::Node n(YAML::NodeType::Map);
    for (const auto& write : state.writers) write(o, n);
    return n;
  }

  /// Member pointers become accessors; accessors stay as they are.
  template <typename Field>
  static auto accessor(Field field) {
    if constexpr (std::is_member_object_pointer_v<Field>) {
      return [field](Options& o) -> decltype(auto) { return (o.*field); };
    } else {
      return field;
    }
  }

  template <typename Access>
  Key& bind(const std::string& name, std::optional<Type> type, Access access, const std::string& doc) {
    using Field = std::remove_reference_t<decltype(access(std::declval<Options&>()))>;
    using Value = typename binding_detail::Unoptional<Field>::type;
    constexpr bool kOptional = binding_detail::Unoptional<Field>::optional;
    Key& key = state_->section->add(name, type.value_or(binding_detail::type_of<Value>()), doc);
    Options defaults;
    if constexpr (kOptional) {
      key.optional();
    } else if constexpr (std::is_integral_v<Value> && !std::is_same_v<Value, bool>) {
      key.def(static_cast<int64_t>(access(defaults)));
    } else {
      key.def(access(defaults));
    }
    state_->readers.push_back([name, access](const YAML::Node& n, Options& o) {
      const YAML::Node value = n[name];
      if (!value || value.IsNull()) return;  // absent: the struct's default, as validation would fill in
      access(o) = value.template as<Value>();
    });
    state_->writers.push_back([name, access](const Options& o, YAML::Node& n) {
      // Accessors take the struct by reference; writing only reads through it.
      const Field& value = access(const_cast<Options&>(o));
      if constexpr (kOptional) {
        if (value) n[name] = *value;
      } else {
        n[name] = value;
      }
    });
    return key;
  }

  std::shared_ptr<State> state_;
};

}  // namespace tandem::recipe
