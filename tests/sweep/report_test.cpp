// The scaling report's findings from hand-made runs: a speedup whose 95 %
// intervals overlap is called unresolved, with the repeats it would take.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sweep/grid.h"
#include "sweep/report.h"
#include "sweep/runner.h"
#include "sweep/sweep_record.h"
#include "tests/support/multiprocess.h"

namespace tandem::sweep {
namespace {

namespace fs = std::filesystem;

/// A sweep of 1 and 2 workers, 2 repeats each, whose runs reach the target
/// after the given seconds (1 worker's two repeats, then 2 workers').
std::string report_for(const std::vector<double>& seconds) {
  const fs::path dir = test::make_temp_dir("report_findings");
  SweepRecord record;
  record.recipe = "r.yaml";
  record.target_metric = "val_loss";
  record.target_value = 2.6;
  record.points = expand(parse_sweep(YAML::Load("sweep:\n  grid:\n    launch.nproc_per_node: [1, 2]\n  repeats: 2\n")["sweep"],
                                     "r.yaml"));
  write_sweep_record(dir, record);
  for (size_t i = 0; i < record.points.size(); ++i) {
    const fs::path run = dir / "points" / record.points[i].name();
    fs::create_directories(run);
    const int workers = i < 2 ? 1 : 2;
    std::ofstream(run / "metrics.jsonl")
        << fmt::format(R"({{"kind":"start","global_step":0,"world_size":{},"batch_size":64,"global_batch":{}}})", workers,
                       64 * workers)
        << "\n"
        << R"({"kind":"eval","global_step":10,"val_loss":2.5,"time_s":1.0,"eval_s":0.1})" "\n"
        << fmt::format(R"({{"kind":"target","metric":"val_loss","value":2.5,"global_step":10,"time_s":{}}})", seconds[i])
        << "\n"
        << fmt::format(R"({{"kind":"end","global_step":20,"time_s":{},"eval_s":0.1,"samples":1280}})", seconds[i] + 1)
        << "\n";
    write_status(run, "done", 0, seconds[i] + 2);
  }
  ReportOptions options;
  options.gnuplot = "true";
  std::ifstream in(write_report(dir, options));
  std::stringstream text;
  text << in.rdbuf();
  fs::remove_all(dir);
  return text.str();
}

TEST(ReportFindings, OverlappingIntervalsAreNotResolvedAndSayWhatWouldResolveThem) {
  // Means 11 and 12 s, each sd sqrt(2): 34 repeats (tests/sweep/sweep_test.cpp works it out).
  const auto md = report_for({11, 13, 10, 12});
  EXPECT_NE(md.find("2 workers reach the target in 11.0 ± 12.7 s against 12.0 ± 12.7 s with 1"), std::string::npos)
      << md;
  EXPECT_NE(md.find("the 95 % intervals overlap, so the difference is NOT resolved by 2 repeats: at the observed "
                    "spread about 34 repeats would resolve it"),
            std::string::npos)
      << md;
}

TEST(ReportFindings, SeparateIntervalsAreResolved) {
  const auto md = report_for({10, 10.2, 5, 5.1});
  EXPECT_NE(md.find("the 95 % intervals do not overlap: the difference is resolved"), std::string::npos) << md;
  EXPECT_EQ(md.find("NOT resolved"), std::string::npos) << md;
}

}  // namespace
}  // namespace tandem::sweep
