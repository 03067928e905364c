#pragma once
/// Step checkpoints in a run directory (framework/core/run_dir.h):
/// checkpoints/step-<N>.pt, found, named and pruned.
#include <cstdint>
#include <filesystem>

namespace tandem {

/// `path` itself if it is a file; the newest intact checkpoints/step-<N>.pt if
/// it is a run directory or its checkpoints/ folder: a newer one whose checksum
/// fails is skipped with a warning. BadInput if there is none.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

/// checkpoints/step-<N>.pt with N zero-padded so names sort by step.
std::filesystem::path checkpoint_path(const std::filesystem::path& checkpoints_dir, int64_t global_step);

/// Deletes all but the newest `keep` step checkpoints in `checkpoints_dir`.
void prune_checkpoints(const std::filesystem::path& checkpoints_dir, int64_t keep);

}  // namespace tandem
