#pragma once
/// What one run of a sweep measured, read back from its metrics.jsonl, and the
/// sweep's results.csv: one row per run.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sweep/grid.h"

namespace tandem::sweep {

/// A point of a curve: seconds since the run's first step, and a value.
struct CurvePoint {
  double time_s = 0.0;
  int64_t step = 0;
  double value = 0.0;
};

struct RunSummary {
  std::string state = "missing";  ///< done | failed | missing (never finished)
  int exit_code = 0;
  double wall_s = 0.0;            ///< the launcher's whole run, start-up included
  int workers = 0;
  int64_t batch_size = 0;         ///< per worker, after scaling rules
  int64_t global_batch = 0;
  double lr = 0.0;                ///< peak learning rate, after scaling rules
  int64_t steps = 0;
  double time_s = 0.0;            ///< from the first step to the end, validation included
  double eval_s = 0.0;            ///< of time_s, spent validating
  double samples_per_s = 0.0;     ///< training samples per second, validation excluded
  double comm_s = 0.0, exposed_comm_s = 0.0;
  double bytes_per_step = 0.0;
  int buckets = 0;
  std::map<std::string, double> final_metrics;  ///< last logged loss and last validation (val_*)
  std::map<std::string, double> best_metrics;   ///< lowest for *loss* names, highest for the others
  std::optional<double> time_to_target_s;
  std::optional<int64_t> target_step;
  std::optional<int64_t> early_stop_step;       ///< trainer.early_stopping ended the run here
  std::vector<CurvePoint> loss_curve;           ///< logged training loss
  std::map<std::string, std::vector<CurvePoint>> val_curves;

  /// Seconds per optimizer step without validation.
  double step_s() const { return steps > 0 ? (time_s - eval_s) / static_cast<double>(steps) : 0.0; }
  /// Communication time as a fraction of training time (validation excluded).
  double comm_fraction() const { return time_s > eval_s ? comm_s / (time_s - eval_s) : 0.0; }
  double exposed_comm_fraction() const { return time_s > eval_s ? exposed_comm_s / (time_s - eval_s) : 0.0; }
};

/// Reads `run_dir`/metrics.jsonl and `run_dir`/status.json (written by the sweep).
RunSummary summarize_run(const std::filesystem::path& run_dir);

/// True for metrics where lower is better (their names contain "loss", or
/// are ibs / inbll).
bool lower_is_better(const std::string& metric);

/// Writes results.csv: one row per point, with every swept key.
void write_results_csv(const std::filesystem::path& path, const std::vector<SweepPoint>& points,
                       const std::vector<RunSummary>& runs, uint64_t base_seed, const std::string& target_metric,
                       double target_value);

}  // namespace tandem::sweep
