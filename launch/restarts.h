#pragma once
/// Restarting a group after a failure, as torchrun's --max-restarts does: a
/// worker failure or a group timeout stops the group, and the whole group
/// starts again, resuming from the newest checkpoint the run has written so
/// far. A signal to the launcher or a pre-emption never restarts it.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "launch/launcher.h"

namespace tandem::launch {

struct RestartPolicy {
  int max_restarts = 0;  ///< attempts after the first; 0: the group runs once
  /// The first attempt's checkpoint (a resumed run); none: from the beginning.
  std::optional<std::filesystem::path> resume_from;
  /// Asked after each failure for the checkpoint the next attempt resumes
  /// from; none (or no function): the next attempt starts from the beginning.
  std::function<std::optional<std::filesystem::path>()> newest_checkpoint;
  /// What makes a worker resume: this flag and the checkpoint's path are
  /// appended to the group's argv.
  std::string resume_flag = "--resume";
};

/// Runs `spec`'s group (run_workers) and restarts it up to
/// `policy.max_restarts` times. With restarts allowed, attempt k logs to
/// spec.logs_dir/attempt_<k>/. Every attempt's workers see
/// TANDEM_RESTART_COUNT and TORCHELASTIC_RESTART_COUNT (the attempt, from 0)
/// and TORCHELASTIC_MAX_RESTARTS. Returns the last attempt's result.
LaunchResult run_with_restarts(const WorkerGroupSpec& spec, const RestartPolicy& policy);

}  // namespace tandem::launch
