// Survival models through the `tandem` command end to end: `launch` at 1 and
// 2 workers, `eval` with the whole-set metrics, `predict`, and bad CSV data.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/support/multiprocess.h"
#include "tests/support/tandem_command.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

using test::tandem;

nlohmann::json last_epoch(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  nlohmann::json last;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["kind"] == "epoch") last = j;
  }
  return last;
}

class SurvivalCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("survival_cli"); }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = (fs::path(dir_) / name).string();
    std::ofstream(path) << text;
    return path;
  }

  /// A generated CSV: exponential event times with log hazard ratio x - 0.5
  /// (group == "b") - 1; exponential censoring; a split column.
  std::string survival_csv(int rows) {
    std::mt19937_64 gen(7);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uniform(1e-9, 1.0);
    std::ostringstream out;
    out << "x,group,duration,event,split\n";
    for (int i = 0; i < rows; ++i) {
      const double x = normal(gen);
      const bool b = uniform(gen) < 0.5;
      const double t = -std::log(uniform(gen)) / std::exp(x - (b ? 0.5 : 0.0) - 1.0);
      const double c = -std::log(uniform(gen)) * 6.0;
      out << x << "," << (b ? "b" : "a") << "," << std::min(t, c) << "," << (t <= c ? 1 : 0) << ","
          << (i % 5 == 0 ? "test" : "train") << "\n";
    }
    return write("data.csv", out.str());
  }

  std::string dir_;
};

TEST_F(SurvivalCli, LaunchAtOneAndTwoWorkersThenEvalAndPredict) {
  auto shipped = tandem(std::string("validate ") + TANDEM_SOURCE_DIR + "/recipes/survival_synthetic.yaml");
  EXPECT_EQ(shipped.exit_code, 0) << shipped.output;
  const auto recipe = write("synthetic.yaml",
                            "model: {type: deepsurv, hidden: [16], dropout: 0.0, batch_norm: true}\n"
                            "data: {type: survival_synthetic, n_train: 1000, n_val: 300, seed: 1}\n"
                            "optim: {type: adam, lr: 0.01}\n"
                            "trainer: {epochs: 4, batch_size: 64, log_every: 100}\n"
                            "launch: {timeout_s: 60}\n");
  for (int workers : {1, 2}) {
    const auto run_dir = fs::path(dir_) / ("run" + std::to_string(workers));
    auto r = tandem("launch --nproc-per-node " + std::to_string(workers) + " " + recipe + " --run-dir " +
                    run_dir.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto last = last_epoch(run_dir);
    SCOPED_TRACE(last.dump());
    // Linear synthetic data: the true log hazard ratio gives C ~ 0.8; a few epochs get close.
    EXPECT_GT(last["val_c_index"].get<double>(), 0.72);
    EXPECT_GT(last["val_td_concordance"].get<double>(), 0.72);
    EXPECT_LT(last["val_ibs"].get<double>(), 0.2);
    EXPECT_GT(last["val_ibs"].get<double>(), 0.0);
  }
  const auto run_dir = fs::path(dir_) / "run2";
  auto eval = tandem("eval --checkpoint " + run_dir.string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  for (const char* name : {"c_index ", "td_concordance ", "ibs ", "inbll ", "loss "}) {
    EXPECT_NE(eval.output.find(std::string("\n") + name), std::string::npos) << name << "\n" << eval.output;
  }
  // The last validation of the 2-worker run (rank 1 validated with rank 0's batch-norm statistics)
  // is what the checkpoint gives.
  const auto at = eval.output.find("\nibs ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NEAR(std::stod(eval.output.substr(at + 5)), last_epoch(run_dir)["val_ibs"].get<double>(), 2e-6);
  // x0 raises the hazard (coefficient +1), so the subject with x0 = 2 is riskier.
  const auto rows = write("new.csv", "x0,x1,x2,x3,x4\n-2,0,0,0,0\n2,0,0,0,0\n");
  auto risk = tandem("predict --checkpoint " + run_dir.string() + " --data " + rows + " --risk");
  ASSERT_EQ(risk.exit_code, 0) << risk.output;
  std::istringstream in(risk.output);
  std::string header, a, b;
  std::getline(in, header);
  std::getline(in, a);
  std::getline(in, b);
  EXPECT_EQ(header, "line,risk");
  EXPECT_LT(std::stod(a.substr(a.find(',') + 1)), std::stod(b.substr(b.find(',') + 1))) << risk.output;
  const auto curves_path = (fs::path(dir_) / "curves.csv").string();
  auto curves = tandem("predict --checkpoint " + run_dir.string() + " --data " + rows + " --output " + curves_path);
  ASSERT_EQ(curves.exit_code, 0) << curves.output;
  std::ifstream cin(curves_path);
  std::getline(cin, header);
  EXPECT_EQ(header.rfind("line,S(0),S(", 0), 0u) << header;
  std::getline(cin, a);
  EXPECT_EQ(a.rfind("2,1,", 0), 0u) << "S(0) = 1 for the row on line 2: " << a;
  auto missing = tandem("predict --checkpoint " + run_dir.string() + " --data " + write("bad.csv", "x0,x1\n1,2\n"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("expected a column named 'x2'"), std::string::npos) << missing.output;
}

TEST_F(SurvivalCli, CsvDataTrainsWithLogisticHazardAndBadRowsAreNamed) {
  const auto csv = survival_csv(1500);
  const auto recipe = write("csv.yaml",
                            "model: {type: logistic_hazard, hidden: [16], intervals: 10, cuts: quantiles}\n"
                            "data: {type: survival_csv, path: " + csv +
                                ", categorical: group, split_column: split, holdout_fraction: 0.2}\n"
                                "optim: {type: adam, lr: 0.01}\n"
                                "trainer: {epochs: 5, batch_size: 64, log_every: 100}\n"
                                "launch: {timeout_s: 60}\n");
  const auto run_dir = fs::path(dir_) / "run";
  auto r = tandem("launch --nproc-per-node 2 " + recipe + " --run-dir " + run_dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto last = last_epoch(run_dir);
  EXPECT_GT(last["val_td_concordance"].get<double>(), 0.65) << last.dump();
  // With a holdout the checkpoint evaluates with the best epoch's weights: eval gives the last validation.
  auto eval = tandem("eval --checkpoint " + run_dir.string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const auto at = eval.output.find("\ntd_concordance ");
  ASSERT_NE(at, std::string::npos) << eval.output;
  EXPECT_NEAR(std::stod(eval.output.substr(at + 16)), last["val_td_concordance"].get<double>(), 1e-6);
  // The categorical levels come from the training split and travel in the checkpoint:
  // prediction works with the training file moved away.
  const auto moved = csv + ".moved";
  fs::rename(csv, moved);
  auto ok = tandem("predict --risk --checkpoint " + run_dir.string() + " --data " +
                   write("new_ok.csv", "group,x\nb,0\na,0\n"));
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("line,risk\n2,"), std::string::npos) << ok.output;
  auto p = tandem("predict --risk --checkpoint " + run_dir.string() + " --data " +
                  write("new.csv", "x,group\n0,a\n0,c\n"));
  EXPECT_EQ(p.exit_code, 2) << p.output;
  EXPECT_NE(p.output.find("new.csv:3: column 'group': expected a level seen in the training split (a, b), got 'c'"),
            std::string::npos)
      << p.output;
  fs::rename(moved, csv);

  const auto bad = write("bad.csv", "x,group,duration,event,split\n0.1,a,3,1,train\n0.2,b,-1,0,train\n");
  auto b = tandem("train " + recipe + " data.path=" + bad + " --run-dir " + (fs::path(dir_) / "bad").string());
  EXPECT_EQ(b.exit_code, 2) << b.output;
  EXPECT_NE(b.output.find("bad.csv:3: column 'duration' (data.duration): expected a number >= 0, got '-1'"),
            std::string::npos)
      << b.output;
}

}  // namespace
}  // namespace tandem
