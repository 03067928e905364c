#pragma once
/// `tandem report SWEEP_DIR`: the pictures and tables of a scaling study,
/// drawn with gnuplot, in SWEEP_DIR/report/report.md.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sweep/grid.h"
#include "sweep/projection.h"
#include "sweep/results.h"

namespace tandem::sweep {

/// What sweep.json records about a sweep.
struct SweepRecord {
  std::string recipe;
  std::vector<std::string> overrides;
  std::string base_config;  ///< the base point's resolved config (YAML)
  uint64_t base_seed = 0;
  std::string target_metric;  ///< empty: none
  double target_value = 0.0;
  std::vector<SweepPoint> points;
};

void write_sweep_record(const std::filesystem::path& sweep_dir, const SweepRecord& record);
SweepRecord read_sweep_record(const std::filesystem::path& sweep_dir);

/// Half-width of the 95 % confidence interval of the mean of `values`
/// (Student's t); 0 for fewer than two values.
double ci95_half_width(const std::vector<double>& values);
double mean(const std::vector<double>& values);

struct ReportOptions {
  std::filesystem::path out_dir;        ///< default SWEEP_DIR/report
  std::vector<Network> networks;        ///< projected networks besides the measured one
  double overlap = 2.0 / 3;             ///< StepModel::overlap
  std::string gnuplot = "gnuplot";
};

/// Writes the data, gnuplot scripts, PNG images (when gnuplot runs) and
/// report.md. Returns the path of report.md.
std::filesystem::path write_report(const std::filesystem::path& sweep_dir, const ReportOptions& options);

/// Writes results.csv for the sweep from its points' run directories.
void write_sweep_results(const std::filesystem::path& sweep_dir, const SweepRecord& record);

}  // namespace tandem::sweep
