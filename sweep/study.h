#pragma once
/// A sweep's runs arranged for the scaling report: the finished repeats of
/// each grid combination together, and per batch size and worker count the
/// combination the report shows.
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sweep/results.h"
#include "sweep/sweep_record.h"

namespace tandem::sweep {

/// One grid combination and its repeats.
struct Combo {
  int combo = 0;
  int workers = 0;
  int64_t batch = 0;   ///< per worker
  std::string variant;  ///< the swept keys that are not workers or batch, "lr=0.004 ..."; empty: none
  std::vector<const RunSummary*> runs;  ///< the repeats that finished
  int repeats = 0;

  std::vector<double> times_to_target() const;
  bool all_reached() const { return !runs.empty() && times_to_target().size() == runs.size(); }
  std::vector<double> throughputs() const;
  std::vector<double> step_times() const;
};

/// Per batch size, per worker count: the combination the report shows.
using BestCombos = std::map<int64_t, std::map<int, const Combo*>>;

/// Everything the report is drawn from. Its combinations point into its runs,
/// so it can be moved but not copied.
struct Study {
  explicit Study(const SweepRecord& r) : record(r) {}
  Study(const Study&) = delete;
  Study& operator=(const Study&) = delete;
  Study(Study&&) = default;  // a vector or map that moves keeps its elements where they are

  const SweepRecord& record;
  std::vector<RunSummary> runs;   ///< one per point, in the record's order
  std::map<int, Combo> combos;    ///< by combination index
  std::set<int64_t> batches;      ///< of the combinations with a finished run
  std::set<int> workers;
  BestCombos best;                ///< the fastest to the target; without one, the highest throughput
  bool has_target = false;
  std::string curve_metric;       ///< the target's metric, else the training loss
};

/// The run of each point of `record`, in its order, read from `sweep_dir`/points/.
std::vector<RunSummary> summarize_points(const std::filesystem::path& sweep_dir, const SweepRecord& record);

/// Arranges `runs` (summarize_points). BadInput naming `sweep_dir` when no point has finished.
Study make_study(const std::filesystem::path& sweep_dir, const SweepRecord& record, std::vector<RunSummary> runs);

}  // namespace tandem::sweep
