#pragma once
/// The run directory: everything one run leaves behind.
///   config.yaml        the resolved config
///   metrics.jsonl      one JSON object per log step and per epoch (rank 0)
///   logs/rank<k>.log   each worker's output (written by the launcher)
///   checkpoints/       step-<N>.pt, written by rank 0 via a temporary file
#include <cstdint>
#include <filesystem>
#include <string>

namespace tandem {

class RunDir {
 public:
  explicit RunDir(std::filesystem::path root) : root_(std::move(root)) {}

  /// runs/<recipe_name>/<YYYYmmdd-HHMMSS>[-k], a directory that does not exist yet.
  static RunDir fresh_default(const std::string& recipe_name, const std::filesystem::path& base = "runs");

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config() const { return root_ / "config.yaml"; }
  std::filesystem::path metrics() const { return root_ / "metrics.jsonl"; }
  std::filesystem::path logs() const { return root_ / "logs"; }
  std::filesystem::path rank_log(int rank) const { return logs() / ("rank" + std::to_string(rank) + ".log"); }
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }

  /// Creates the directory tree.
  void create() const;

 private:
  std::filesystem::path root_;
};

/// Writes `text` to `path` atomically: a temporary file beside it, then rename.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

/// `path` itself if it is a file; the newest intact checkpoints/step-<N>.pt if
/// it is a run directory or its checkpoints/ folder: a newer one whose checksum
/// fails is skipped with a warning. BadInput if there is none.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

/// checkpoints/step-<N>.pt with N zero-padded so names sort by step.
std::filesystem::path checkpoint_path(const std::filesystem::path& checkpoints_dir, int64_t global_step);

/// Deletes all but the newest `keep` step checkpoints in `checkpoints_dir`.
void prune_checkpoints(const std::filesystem::path& checkpoints_dir, int64_t keep);

}  // namespace tandem
