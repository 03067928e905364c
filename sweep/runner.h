#pragma once
/// Running the points of a sweep one after another, each through
/// `tandem launch` in its own run directory, resumably: a point whose
/// status.json says "done" is never run again.
///
///   SWEEP_DIR/sweep.json            the recipe, overrides and the expanded points
///   SWEEP_DIR/points/<name>/        one run directory per point (config.yaml,
///                                   metrics.jsonl, logs/, checkpoints/), plus
///                                   launch.log (the launcher's output) and
///                                   status.json (written when it ends)
///   SWEEP_DIR/results.csv           one row per point
///   SWEEP_DIR/network.json          allreduce timings and the fitted alpha, beta
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sweep/grid.h"

namespace tandem::sweep {

struct PointOutcome {
  bool skipped = false;  ///< already done by an earlier run of the sweep
  int exit_code = 0;
  double wall_s = 0.0;
  int signal = 0;        ///< the sweep itself was interrupted by this signal
};

/// Runs `argv` with stdout and stderr in `log_file`, waiting for it to end.
/// It starts as the launcher's workers do (launch::spawn_child,
/// launch/child_process.h): it inherits no other descriptor of ours, and gets
/// SIGTERM when this process dies (PR_SET_PDEATHSIG). SIGINT and SIGTERM
/// sent to this process are passed on to it; PointOutcome::signal says so.
PointOutcome run_child(const std::vector<std::string>& argv, const std::filesystem::path& log_file);

/// Writes `dir`/status.json.
void write_status(const std::filesystem::path& dir, const std::string& state, int exit_code, double wall_s);

/// "done" when `dir`/status.json says so; else "failed", or "" when there is none.
std::string read_state(const std::filesystem::path& dir);

/// The last `lines` lines of a text file.
std::vector<std::string> tail_lines(const std::filesystem::path& file, int lines);

}  // namespace tandem::sweep
