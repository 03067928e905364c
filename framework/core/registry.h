#pragma once
/// A name → entry table that components add themselves to at static
/// initialisation (see TANDEM_REGISTER_MODEL, TANDEM_REGISTER_DATASET).
/// A duplicate name fails at start-up; an unknown name is a BadInput that lists
/// the registered names and the nearest one.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/nearest.h"

namespace tandem {

template <typename Entry>
class Registry {
 public:
  /// `kind` names what is registered ("model", "dataset") in messages.
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// Adds an entry; a second entry under the same name aborts the program,
  /// since two components silently shadowing each other is a build mistake.
  void add(const std::string& name, Entry entry) {
    if (!entries_.emplace(name, std::move(entry)).second) {
      std::fprintf(stderr, "[core] %s '%s' is registered twice; each name must be unique\n",
                   kind_.c_str(), name.c_str());
      std::abort();
    }
  }

  bool contains(const std::string& name) const { return entries_.count(name) > 0; }

  /// The entry for `name`, or BadInput naming the choices.
  const Entry& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string list;
      for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
      throw BadInput("unknown " + kind_ + " '" + name + "'" + did_you_mean(name, names()) +
                     "; registered: " + (list.empty() ? "(none)" : list));
    }
    return it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace tandem

#define TANDEM_CONCAT_INNER(a, b) a##b
#define TANDEM_CONCAT(a, b) TANDEM_CONCAT_INNER(a, b)
