#pragma once
/// The full recipe schema: model and data (from the registries), optim,
/// trainer, ddp and launch, plus an optional `name`.
#include <string>
#include <vector>

#include "framework/recipe/recipe.h"

namespace tandem::cli {

const recipe::Section& recipe_schema();

/// Loads and validates a recipe file with overrides (BadInputList on problems).
recipe::Resolved load_recipe(const std::string& file, const std::vector<std::string>& overrides);

}  // namespace tandem::cli
