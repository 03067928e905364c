#pragma once
/// The problems recipe validation reports for a YAML text, for tests of
/// schemas and their rules: empty when the text is valid.
#include <string>
#include <vector>

#include "framework/core/error.h"
#include "framework/recipe/recipe.h"

namespace tandem::test {

inline std::vector<std::string> recipe_problems(const std::string& text, const recipe::Section& schema,
                                                const std::string& file = "r.yaml",
                                                const std::vector<std::string>& overrides = {}) {
  try {
    recipe::load_text(text, file, overrides, schema);
  } catch (const BadInputList& e) {
    return e.problems();
  }
  return {};
}

}  // namespace tandem::test
