#pragma once
/// What one worker does for `tandem train`: join the world, build data and
/// model from the resolved config, train, and (rank 0) print samples.
#include <filesystem>
#include <optional>
#include <string>

#include "framework/recipe/recipe.h"

namespace tandem::cli {

/// Returns the exit code. `run_dir` is where rank 0 writes; when empty rank 0
/// makes the default runs/<name>/<timestamp>. With `resume` (a checkpoint
/// file, or a run directory: its newest checkpoint), training continues
/// exactly where that checkpoint stopped.
int run_training(const recipe::Resolved& recipe, const std::optional<std::filesystem::path>& run_dir,
                 const std::optional<std::filesystem::path>& resume = std::nullopt);

}  // namespace tandem::cli
