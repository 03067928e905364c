#include "framework/train/checkpoint_files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/train/checkpoint_integrity.h"

namespace tandem {

namespace {

std::vector<std::filesystem::path> step_checkpoints(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("step-", 0) == 0 && entry.path().extension() == ".pt") {
      found.push_back(entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t global_step) {
  return dir / fmt::format("step-{:09d}.pt", global_step);
}

std::filesystem::path resolve_checkpoint(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return path;
  if (!std::filesystem::is_directory(path, ec)) {
    throw BadInput(fmt::format("checkpoint {}: no such file or directory", path.string()));
  }
  // Newest first; a checkpoint whose checksum fails (a disk error, a copy cut
  // short) is skipped in favour of the one before it, and said so.
  std::vector<std::string> skipped;
  for (const auto& dir : {path / "checkpoints", path}) {
    auto found = step_checkpoints(dir);
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
      const std::string why = check_sealed_file(*it);
      if (why.empty()) {
        if (!skipped.empty()) log_warn("train", "using {}, the newest intact checkpoint", it->string());
        return *it;
      }
      log_warn("train", "skipping corrupt checkpoint {}: {}", it->string(), why);
      skipped.push_back(it->filename().string());
    }
    if (!found.empty()) break;
  }
  if (!skipped.empty()) {
    throw BadInput(fmt::format("checkpoint {}: every step-*.pt checkpoint is corrupt ({})", path.string(),
                               fmt::join(skipped, ", ")));
  }
  throw BadInput(fmt::format("checkpoint {}: the directory holds no complete step-*.pt checkpoint", path.string()));
}

void prune_checkpoints(const std::filesystem::path& dir, int64_t keep) {
  auto found = step_checkpoints(dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < found.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(found[i], ec);
  }
}

}  // namespace tandem
