#pragma once
/// The run directory: everything one run leaves behind.
///   config.yaml        the resolved config
///   metrics.jsonl      one JSON object per log step and per epoch (rank 0)
///   logs/rank<k>.log   each worker's output (written by the launcher)
///   checkpoints/       step-<N>.pt, written by rank 0 via a temporary file
/// Plain C++ (no LibTorch), so the launcher and the sweep share the layout
/// with the trainer.
#include <filesystem>
#include <string>

namespace tandem {

/// "rank<k>.log": a worker's log file in a logs directory.
std::string rank_log_name(int rank);

class RunDir {
 public:
  explicit RunDir(std::filesystem::path root) : root_(std::move(root)) {}

  /// runs/<recipe_name>/<YYYYmmdd-HHMMSS>[-k], a directory that does not exist yet.
  static RunDir fresh_default(const std::string& recipe_name, const std::filesystem::path& base = "runs");

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config() const { return root_ / "config.yaml"; }
  std::filesystem::path metrics() const { return root_ / "metrics.jsonl"; }
  std::filesystem::path logs() const { return root_ / "logs"; }
  std::filesystem::path rank_log(int rank) const { return logs() / rank_log_name(rank); }
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }

  /// Creates the directory tree.
  void create() const;

 private:
  std::filesystem::path root_;
};

}  // namespace tandem
