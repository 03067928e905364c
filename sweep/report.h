#pragma once
/// `tandem report SWEEP_DIR`: the pictures and tables of a scaling study,
/// drawn with gnuplot, in SWEEP_DIR/report/report.md.
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/projection.h"
#include "sweep/sweep_record.h"

namespace tandem::sweep {

struct ReportOptions {
  std::filesystem::path out_dir;        ///< default SWEEP_DIR/report
  std::vector<Network> networks;        ///< projected networks besides the measured one
  double overlap = 2.0 / 3;             ///< StepModel::backward_fraction: what communication can hide behind
  std::string gnuplot = "gnuplot";
};

/// Writes the data, gnuplot scripts, PNG images (when gnuplot runs) and
/// report.md. Returns the path of report.md.
std::filesystem::path write_report(const std::filesystem::path& sweep_dir, const ReportOptions& options);

/// Writes results.csv for the sweep from its points' run directories.
void write_sweep_results(const std::filesystem::path& sweep_dir, const SweepRecord& record);

}  // namespace tandem::sweep
