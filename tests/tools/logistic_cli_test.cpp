// logistic_regression through the `tandem` command: recipes/logistic_*.yaml
// launched at one and two workers (real processes), what a run leaves behind,
// eval of its checkpoint, and bad data reported with file and line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/multiprocess.h"
#include "tests/support/tandem_command.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

using test::tandem;

std::string recipe(const std::string& name) { return std::string(TANDEM_SOURCE_DIR) + "/recipes/" + name; }

std::vector<nlohmann::json> records(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

class LogisticCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("logistic-cli"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

// Small enough for seconds: 20,000 rows.
const std::string kSmall = " data.rows=20000 data.val_rows=2000";

TEST_F(LogisticCli, EachSolverRecipeGivesTheSameModelAtOneAndTwoWorkers) {
  for (const std::string solver : {"lbfgs", "admm", "proximal"}) {
    nlohmann::json coefficients[2];
    for (int world : {1, 2}) {
      const auto run = fs::path(dir_) / (solver + std::to_string(world));
      auto r = tandem("launch --nproc-per-node " + std::to_string(world) + " " + recipe("logistic_" + solver + ".yaml") +
                      kSmall + " model.tol=1e-10 --run-dir " + run.string());
      ASSERT_EQ(r.exit_code, 0) << r.output;
      EXPECT_NE(r.output.find("[rank0]: [logistic] " + solver + " converged"), std::string::npos) << r.output;
      auto recs = records(run);
      ASSERT_GE(recs.size(), 2u);
      for (size_t i = 0; i + 1 < recs.size(); ++i) {
        EXPECT_EQ(recs[i]["kind"], "iteration");
        EXPECT_EQ(recs[i]["iteration"].get<int>(), static_cast<int>(i) + 1);
        EXPECT_TRUE(recs[i].contains("objective") && recs[i].contains("grad_norm") && recs[i].contains("seconds"));
      }
      const auto& final = recs.back();
      EXPECT_EQ(final["kind"], "final");
      EXPECT_TRUE(final["converged"].get<bool>());
      EXPECT_LE(final["grad_norm"].get<double>(), 1e-10);
      EXPECT_GT(final["val"]["auc"].get<double>(), 0.8);
      EXPECT_EQ(final["val"]["rows"].get<int>(), 2000);
      coefficients[world - 1] = read_json(run / "coefficients.json");
      EXPECT_TRUE(fs::exists(run / "coefficients.csv"));
      EXPECT_FALSE(fs::is_empty(run / "checkpoints")) << "a checkpoint for tandem eval";
    }
    const auto a = coefficients[0]["coefficients"].get<std::vector<double>>();
    const auto b = coefficients[1]["coefficients"].get<std::vector<double>>();
    ASSERT_EQ(a.size(), 15u);
    ASSERT_EQ(b.size(), 15u);
    for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-6) << solver << " coefficient " << j;
    EXPECT_NEAR(coefficients[0]["intercept"].get<double>(), coefficients[1]["intercept"].get<double>(), 1e-6);
    if (solver == "proximal") {  // the recipe's lasso zeroes some of the uninformative columns exactly
      int zeros = 0;
      for (double v : a) zeros += v == 0.0;
      EXPECT_GT(zeros, 0);
    }
  }
  // eval reads the full-batch checkpoint like any other.
  auto eval = tandem("eval --checkpoint " + (fs::path(dir_) / "lbfgs2").string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("\naccuracy "), std::string::npos) << eval.output;
}

TEST_F(LogisticCli, TheMinibatchRecipeTrainsUnderDdp) {
  const auto run = fs::path(dir_) / "minibatch";
  auto r = tandem("launch --nproc-per-node 2 " + recipe("logistic_minibatch.yaml") + kSmall +
                  " trainer.epochs=1 --run-dir " + run.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("val_accuracy"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("val_auc"), std::string::npos) << r.output;
}

TEST_F(LogisticCli, BadDataAndBadSettingsAreClearErrors) {
  const auto csv = fs::path(dir_) / "bad.csv";
  std::ofstream(csv) << "label,a,b\n1,0.5,2\n0,1.5,3\n2,0.1,1\n";
  const std::string csv_recipe = (fs::path(dir_) / "csv.yaml").string();
  std::ofstream(csv_recipe) << "model: {type: logistic_regression, solver: newton}\n"
                               "data: {type: csv, path: " << csv.string() << ", standardize: true}\n";
  auto r = tandem("train " + csv_recipe + " --run-dir " + (fs::path(dir_) / "csv").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(csv.string() + ":4: column 'label': expected a label of 0 or 1, got 2"), std::string::npos)
      << r.output;

  r = tandem("train " + csv_recipe + " data.features=a,c --run-dir " + (fs::path(dir_) / "csv2").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(csv.string() + ":1: expected a column named 'c'"), std::string::npos) << r.output;

  r = tandem("train " + recipe("logistic_lbfgs.yaml") + kSmall + " model.l1_ratio=0.5 --run-dir " +
             (fs::path(dir_) / "l1").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("use solver proximal or admm"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tandem
