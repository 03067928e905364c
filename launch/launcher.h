#pragma once
/// The launcher: starts one worker process per local rank with torchrun's
/// environment, prefixes and tees their output, forwards SIGINT/SIGTERM, and
/// when a worker fails stops the others and reports which rank failed first,
/// how, and its error (from its TORCHELASTIC_ERROR_FILE, logs_dir/
/// error_rank<k>.json) or the tail of its log. Workers die with the launcher
/// (PR_SET_PDEATHSIG). A master_port of 0 is chosen by the kernel and held
/// until rank 0's store listens on it; a single-host group gets a fresh
/// TANDEM_STORE_TOKEN unless one is given.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "launch/failure_report.h"

namespace tandem::launch {

struct WorkerGroupSpec {
  std::vector<std::string> argv;  ///< each worker runs argv[0] with these arguments
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                  ///< 0: a free port is chosen
  std::filesystem::path logs_dir;       ///< logs_dir/rank<k>.log and error_rank<k>.json; empty: neither
  std::map<std::string, std::string> env;  ///< extra environment for every worker
  double grace_period_s = 5.0;          ///< SIGTERM → SIGKILL delay when stopping workers
  int tail_lines = 20;                  ///< log lines quoted in a failure report
  double timeout_s = 0.0;               ///< stop the group after this long (0: no limit)
};

struct LaunchResult {
  int exit_code = 0;                  ///< 0, 1 on a worker failure, 128+signal when stopped by one
  int master_port = 0;                ///< the port used
  bool timed_out = false;             ///< stopped because spec.timeout_s passed
  bool preempted = false;             ///< SIGUSR1 reached the launcher and was passed on to the workers;
                                      ///< kExitPreempted (75) when they all stopped for it (0 if they had finished)
  std::optional<WorkerFailure> failure;
};

/// Runs the group to completion. Output lines appear as "[rank<k>]: ...".
LaunchResult run_workers(const WorkerGroupSpec& spec);

}  // namespace tandem::launch
