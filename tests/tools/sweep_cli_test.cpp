// `tandem sweep` and `tandem report` end to end: real launches, a kill in the
// middle of a sweep, and the resume that skips what was finished.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/multiprocess.h"
#include "tests/support/tandem_command.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

using test::tandem;

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class Sweep : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("sweep"); }
  void TearDown() override { fs::remove_all(dir_); }

  /// A char_lstm recipe whose points train in a few seconds; the grid comes last.
  std::string recipe(const std::string& grid) {
    const auto path = dir_ / "s.yaml";
    std::ofstream(path) << "model: {type: char_lstm, context: 8, hidden: 16, layers: 1, dropout: 0.0}\n"
                        << "data: {type: names, path: " << TANDEM_SOURCE_DIR << "/data/corpora/names.txt"
                        << ", context: 8, val_fraction: 0.05}\n"
                        << "optim: {type: adam, lr: 0.004}\n"
                        << "trainer: {epochs: 1, max_steps: 8, batch_size: 32, log_every: 2, val_every: 4,"
                        << " val_batch_size: 4096, samples_at_end: 0, target: {metric: loss, value: 10.0, stop: false}}\n"
                        << "launch: {timeout_s: 60}\n"
                        << "sweep:\n"
                        << grid;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(Sweep, ABadValueAtOnePointNamesThatPointAndStartsNothing) {
  const auto r = recipe("  grid:\n    optim.lr: [0.004, 0.008]\n    trainer.batch_size: [16, 0]\n");
  const auto run = tandem("sweep " + r + " --dir " + (dir_ / "out").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  // Two points have batch 0: both are named, with where the value is written.
  EXPECT_NE(run.output.find(r + ":9:30: point 2 of 4 (lr=0.004 batch_size=0 repeat 0): override "
                                "'trainer.batch_size=0': trainer.batch_size: expected an integer >= 1, got 0"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("point 4 of 4 (lr=0.008 batch_size=0 repeat 0)"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("point 1 of 4"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(dir_ / "out")) << "nothing may start";
}

TEST_F(Sweep, AKilledSweepResumesSkippingFinishedPointsThenWritesResultsAndReport) {
  const auto r = recipe("  grid:\n    launch.nproc_per_node: [1, 2]\n    optim.lr: [0.004, 0.008]\n");
  const fs::path out = dir_ / "out";
  const std::string sweep = std::string(TANDEM_EXE) + " sweep " + r + " --dir " + out.string();
  // Killed (SIGKILL) once the first point is done: the point in flight dies with it.
  const std::string script =
      "set -m; " + sweep + " > " + (dir_ / "first.log").string() + " 2>&1 & pid=$!; " +
      "for i in $(seq 1 1200); do ls " + out.string() + "/points/*/status.json >/dev/null 2>&1 && break; sleep 0.05; "
      "done; kill -KILL $pid; wait $pid; " +
      // Nothing of the sweep may outlive it: its launcher and workers run with --run-dir in it
      // (the [-] keeps this script's own command line from matching).
      "for i in $(seq 1 100); do pgrep -f \"[-]-run-dir " + out.string() + "\" >/dev/null || exit 0; sleep 0.1; done; "
      "pgrep -af \"[-]-run-dir " + out.string() + "\"; exit 1";
  auto killed = test::run_command("timeout -k 5 240 bash -c '" + script + "'");
  ASSERT_EQ(killed.exit_code, 0) << "processes left behind:\n" << killed.output;
  std::vector<fs::path> finished;
  for (const auto& e : fs::directory_iterator(out / "points")) {
    if (fs::exists(e.path() / "status.json")) finished.push_back(e.path());
  }
  ASSERT_GE(finished.size(), 1u);
  ASSERT_LT(finished.size(), 4u) << "the kill should land before the sweep ends";
  const auto first_status = finished.front() / "status.json";
  const auto stamp = fs::last_write_time(first_status);

  const auto resumed = tandem("sweep " + r + " --dir " + out.string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(fs::last_write_time(first_status), stamp) << "a finished point must not run again";
  EXPECT_EQ(resumed.output.find("point 1/4:"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("point 4/4:"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("4 of 4 points done"), std::string::npos) << resumed.output;

  const auto rows = lines_of(out / "results.csv");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].rfind("point,name,repeat,launch.nproc_per_node,optim.lr,seed,state,", 0), 0u) << rows[0];
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_NE(rows[i].find(",done,0,"), std::string::npos) << rows[i];
    EXPECT_NE(rows[i].find(",loss,10,"), std::string::npos) << "time to target recorded: " << rows[i];
  }
  EXPECT_NE(rows[4].find("p003-nproc_per_node=2-lr=0.008-r0,0,2,0.008,0,done,0,2,32,64,0.008,8,"), std::string::npos)
      << rows[4];
  ASSERT_TRUE(fs::exists(out / "network.json"));
  ASSERT_TRUE(fs::exists(out / "report" / "report.md"));
  std::ifstream report(out / "report" / "report.md");
  std::stringstream text;
  text << report.rdbuf();
  EXPECT_NE(text.str().find("| 32 | 2 |"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("measured here (Gloo, loopback)"), std::string::npos) << text.str();
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    for (const char* png : {"loss_vs_time.png", "time_to_target.png", "speedup.png", "throughput.png", "projection.png"}) {
      EXPECT_GT(fs::file_size(out / "report" / png), 1000u) << png;
    }
  }

  // Run again: nothing is left to do. A changed recipe is refused.
  const auto again = tandem("sweep " + r + " --dir " + out.string() + " --no-probe");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find("point "), std::string::npos) << again.output;
  const auto changed = tandem("sweep " + r + " trainer.max_steps=9 --dir " + out.string());
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  EXPECT_NE(changed.output.find("holds a sweep of a different recipe"), std::string::npos) << changed.output;
}

}  // namespace
}  // namespace tandem
