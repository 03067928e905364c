#include "framework/core/run_dir.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace tandem {

std::string rank_log_name(int rank) { return fmt::format("rank{}.log", rank); }

RunDir RunDir::fresh_default(const std::string& recipe_name, const std::filesystem::path& base) {
  std::time_t now = std::time(nullptr);
  const std::string stamp = fmt::format("{:%Y%m%d-%H%M%S}", fmt::localtime(now));
  std::filesystem::path root = base / recipe_name / stamp;
  for (int k = 1; std::filesystem::exists(root); ++k) root = base / recipe_name / fmt::format("{}-{}", stamp, k);
  return RunDir(root);
}

void RunDir::create() const {
  std::filesystem::create_directories(logs());
  std::filesystem::create_directories(checkpoints());
}

}  // namespace tandem
