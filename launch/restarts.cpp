#include "launch/restarts.h"

#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/log.h"

namespace tandem::launch {
namespace {

/// The group as attempt `attempt` starts it, resuming from `checkpoint` if any.
WorkerGroupSpec attempt_spec(const WorkerGroupSpec& spec, const RestartPolicy& policy, int attempt,
                             const std::optional<std::filesystem::path>& checkpoint) {
  WorkerGroupSpec s = spec;
  if (checkpoint) {
    s.argv.insert(s.argv.end(), {policy.resume_flag, checkpoint->string()});
    log_info("launch", "resuming from {}", checkpoint->string());
  }
  // With restarts, every attempt keeps its own logs.
  if (policy.max_restarts > 0 && !spec.logs_dir.empty()) {
    s.logs_dir = spec.logs_dir / fmt::format("attempt_{}", attempt);
  }
  s.env["TANDEM_RESTART_COUNT"] = std::to_string(attempt);
  s.env["TORCHELASTIC_RESTART_COUNT"] = std::to_string(attempt);  // torchrun's name for it
  s.env["TORCHELASTIC_MAX_RESTARTS"] = std::to_string(policy.max_restarts);
  return s;
}

}  // namespace

LaunchResult run_with_restarts(const WorkerGroupSpec& spec, const RestartPolicy& policy) {
  std::optional<std::filesystem::path> checkpoint = policy.resume_from;
  for (int attempt = 0;; ++attempt) {
    LaunchResult result = run_workers(attempt_spec(spec, policy, attempt, checkpoint));
    if (result.exit_code == kExitPreempted) return result;
    const bool worker_failed = result.failure.has_value() || result.timed_out;
    if (result.exit_code == 0 || !worker_failed || attempt >= policy.max_restarts) return result;
    checkpoint = policy.newest_checkpoint ? policy.newest_checkpoint() : std::nullopt;
    log_warn("launch", "restart {}/{} after the failure above, from {}", attempt + 1, policy.max_restarts,
             checkpoint ? checkpoint->string() : std::string("the beginning (no checkpoint yet)"));
  }
}

}  // namespace tandem::launch
