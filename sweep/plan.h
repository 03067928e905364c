#pragma once
/// Planning without a run (`tandem project`): named network presets, and the
/// projected table and picture for given step times, gradient size and cluster.
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/projection.h"

namespace tandem::sweep {

/// A link by preset name (nvlink, pcie, ib100, ib200, ib400, eth25) or as
/// ALPHA_US:GBYTES_PER_S. BadInput naming `flag` otherwise.
Network parse_link(const std::string& flag, const std::string& text);

/// The preset names and what each stands for, one per line.
std::string link_presets();

/// One measured (or published) step: per-worker batch and its compute time.
struct PlanPoint {
  double batch = 1;
  double step_s = 0;
};

struct Plan {
  std::vector<PlanPoint> points;
  StepModel step;        ///< bytes, buckets and the shared constants; compute_s and batch come from points
  Cluster cluster;
  int max_workers = 1024;
  double target_efficiency = 0.8;
};

/// The markdown table (workers x batch: efficiency and samples/s) and the
/// verdict per batch: the most workers above the target efficiency, and where
/// doubling the workers stops paying (it adds under half of what it costs).
std::string plan_report(const Plan& plan);

/// projection.dat and projection.gp in `dir`, drawn with `gnuplot` when it
/// runs; returns the PNG's path, or an empty path when gnuplot did not draw it.
std::filesystem::path plan_picture(const Plan& plan, const std::filesystem::path& dir, const std::string& gnuplot);

}  // namespace tandem::sweep
