// Sweeps without processes: grid expansion and its errors, the projection
// model against hand-worked numbers, and what a run's metrics.jsonl becomes
// in results.csv. (The scaling rules and the schedule: tests/train/schedule_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"
#include "sweep/grid.h"
#include "sweep/projection.h"
#include "sweep/results.h"
#include "sweep/stats.h"
#include "tests/support/multiprocess.h"

namespace tandem::sweep {
namespace {

namespace fs = std::filesystem;

SweepSpec parse(const std::string& yaml) { return parse_sweep(YAML::Load(yaml)["sweep"], "r.yaml"); }

std::string problems_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const BadInputList& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p + "\n";
    return all;
  }
  return "";
}

TEST(Grid, ExpandsEveryCombinationFirstAxisSlowestWithRepeats) {
  const auto spec = parse("sweep:\n  grid:\n    launch.nproc_per_node: [1, 2]\n    optim.lr: [0.001, 0.004, 0.016]\n"
                          "  repeats: 2\n");
  const auto points = expand(spec);
  ASSERT_EQ(points.size(), 12u);
  EXPECT_EQ(points[0].values, (std::vector<std::string>{"1", "0.001"}));
  EXPECT_EQ(points[1].values, (std::vector<std::string>{"1", "0.001"}));
  EXPECT_EQ(points[1].repeat, 1);
  EXPECT_EQ(points[2].values, (std::vector<std::string>{"1", "0.004"}));
  EXPECT_EQ(points[11].values, (std::vector<std::string>{"2", "0.016"}));
  EXPECT_EQ(points[11].combo, 5);
  EXPECT_EQ(points[11].index, 11);
  EXPECT_EQ(points[11].name(), "p005-nproc_per_node=2-lr=0.016-r1");
  EXPECT_EQ(points[11].where[1], "r.yaml:4:30");
  // Repeats change the seed and nothing else.
  EXPECT_EQ(points[11].overrides(7),
            (std::vector<std::string>{"launch.nproc_per_node=2", "optim.lr=0.016", "trainer.seed=8"}));
  EXPECT_EQ(points[10].overrides(7).back(), "trainer.seed=7");
}

TEST(Grid, ASweptSeedIsTheBaseOfTheRepeats) {
  const auto points = expand(parse("sweep:\n  grid:\n    trainer.seed: [10, 20]\n  repeats: 2\n"));
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[3].seed(0), 21u);
  EXPECT_EQ(points[3].overrides(0), (std::vector<std::string>{"trainer.seed=21"}));
}

TEST(Grid, ListValuesAndOddCharactersMakeSafeNames) {
  const auto points = expand(parse("sweep:\n  grid:\n    optim.betas: [[0.9, 0.99]]\n"));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].values[0], "[0.9, 0.99]");
  EXPECT_EQ(points[0].overrides(0)[0], "optim.betas=[0.9, 0.99]");
  EXPECT_EQ(points[0].name(), "p000-betas=_0.9__0.99_-r0");
}

TEST(Grid, ProblemsNameFileLineAndKey) {
  EXPECT_NE(problems_of("sweep: [1, 2]\n").find("r.yaml:1:8: sweep: expected a map"), std::string::npos);
  const auto p = problems_of("sweep:\n  grid:\n    optim.lr: []\n    trainer.batch_size: 64\n  repeats: 0\n  seeds: 3\n");
  EXPECT_NE(p.find("r.yaml:6:3: sweep.seeds: unknown key"), std::string::npos) << p;
  EXPECT_NE(p.find("r.yaml:5:12: sweep.repeats: expected an integer >= 1, got '0'"), std::string::npos) << p;
  EXPECT_NE(p.find("r.yaml:3:15: sweep.grid.optim.lr: expected a non-empty list"), std::string::npos) << p;
  EXPECT_NE(p.find("sweep.grid.trainer.batch_size: expected a non-empty list of values, got 64"), std::string::npos) << p;
  EXPECT_NE(problems_of("sweep:\n  repeats: 2\n").find("sweep.grid: expected a map of recipe keys"), std::string::npos);
  EXPECT_NE(problems_of("sweep:\n  grid:\n    sweep.repeats: [1]\n").find("cannot vary its own settings"),
            std::string::npos);
}

TEST(Projection, FittingTwoWorkerTimingsRecoversAlphaAndBeta) {
  const double alpha = 50e-6, beta = 1.0 / 0.8e9;
  std::vector<double> bytes{4, 4096, 65536, 1 << 20, 8 << 20}, seconds;
  for (double b : bytes) seconds.push_back(2 * alpha + b * beta);
  const auto net = fit_two_worker_allreduce(bytes, seconds, "x");
  EXPECT_NEAR(net.alpha_s, alpha, 1e-12);
  EXPECT_NEAR(net.beta_s_per_byte, beta, 1e-18);
  EXPECT_THROW(fit_two_worker_allreduce({4, 4}, {1, 1}, "x"), std::invalid_argument);
}

TEST(Statistics, ConfidenceIntervalUsesStudentsT) {
  EXPECT_DOUBLE_EQ(mean({1, 2, 3}), 2.0);
  // sd 1, n 3, t(0.975, 2) = 4.303.
  EXPECT_NEAR(ci95_half_width({1, 2, 3}), 4.303 / std::sqrt(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(ci95_half_width({5}), 0.0);
}

TEST(Statistics, OverlappingIntervalsAreNotResolvedAndSayHowManyRepeatsWould) {
  // Means 11 and 12, each sd sqrt(2): with 2 repeats each interval is +- 12.7.
  const std::vector<double> a{10, 12}, b{11, 13};
  EXPECT_TRUE(intervals_overlap(a, b));
  // Resolved once t(n-1) * 2 sqrt(2) / sqrt(n) < 1: t(32) = 2.035 gives 1.002 at
  // n = 33; t(33) = 2.033 gives 0.986 at n = 34.
  EXPECT_EQ(repeats_to_resolve(a, b), 34);
  EXPECT_EQ(repeats_to_resolve(a, b, 20), 0);
  EXPECT_EQ(repeats_to_resolve(a, a), 0);
  const std::vector<double> c{1, 1.1, 0.9}, d{5, 5.1, 4.9};
  EXPECT_FALSE(intervals_overlap(c, d));
  EXPECT_EQ(repeats_to_resolve(c, d), 2);
  // One repeat has no interval: nothing is resolved.
  EXPECT_TRUE(intervals_overlap({1}, {5}));
  EXPECT_EQ(repeats_to_resolve({1}, {5}), 0);
}

TEST(Results, LossesAndLanguageModelScoresAreBetterLowAccuracyHigh) {
  for (const char* lower : {"loss", "val_loss", "val_window_loss", "val_nll", "val_bpc", "val_perplexity", "val_ibs",
                            "inbll"}) {
    EXPECT_TRUE(lower_is_better(lower)) << lower;
  }
  for (const char* higher : {"val_accuracy", "accuracy", "val_c_index", "val_auc"}) {
    EXPECT_FALSE(lower_is_better(higher)) << higher;
  }
}

TEST(Results, AMetricsFileBecomesOneCsvRowWithFinalBestAndTimeToTarget) {
  const fs::path dir = test::make_temp_dir("sweep_results");
  const fs::path run = dir / "points" / "p000-nproc_per_node=2-r0";
  fs::create_directories(run);
  std::ofstream(run / "metrics.jsonl")
      << R"({"kind":"start","global_step":0,"world_size":2,"batch_size":64,"global_batch":128,"lr":0.004})" "\n"
      << R"({"kind":"step","global_step":5,"loss":3.0,"time_s":1.0})" "\n"
      << R"({"kind":"eval","global_step":5,"val_loss":2.8,"val_accuracy":0.2,"time_s":1.5,"eval_s":0.5})" "\n"
      << R"({"kind":"step","global_step":10,"loss":2.5,"time_s":2.5})" "\n"
      << R"({"kind":"epoch","global_step":10,"train_loss":2.7,"val_loss":2.9,"val_accuracy":0.25,"time_s":3.0})" "\n"
      << R"({"kind":"target","metric":"val_loss","value":2.8,"global_step":5,"time_s":1.5})" "\n"
      << R"({"kind":"early_stop","metric":"val_loss","best":2.8,"best_step":5,"global_step":10})" "\n"
      << R"({"kind":"end","global_step":10,"time_s":3.0,"eval_s":1.0,"samples":1280,"ddp_comm_s":0.5,)"
      << R"("ddp_exposed_comm_s":0.1,"ddp_bytes_per_step":4000,"ddp_buckets":2})" "\n"
      << R"({"kind":"end", "cut short by a ki)";
  std::ofstream(run / "status.json") << R"({"state":"done","exit_code":0,"wall_s":4.5})";
  const auto r = summarize_run(run);
  EXPECT_EQ(r.state, "done");
  EXPECT_EQ(r.workers, 2);
  EXPECT_EQ(r.steps, 10);
  EXPECT_DOUBLE_EQ(r.samples_per_s, 1280 / 2.0);
  EXPECT_DOUBLE_EQ(r.step_s(), 0.2);
  EXPECT_DOUBLE_EQ(r.comm_fraction(), 0.25);
  EXPECT_DOUBLE_EQ(r.final_metrics.at("val_loss"), 2.9);
  EXPECT_DOUBLE_EQ(r.best_metrics.at("val_loss"), 2.8);       // lower is better
  EXPECT_DOUBLE_EQ(r.best_metrics.at("val_accuracy"), 0.25);  // higher is better
  EXPECT_DOUBLE_EQ(*r.time_to_target_s, 1.5);
  ASSERT_EQ(r.loss_curve.size(), 2u);
  ASSERT_EQ(r.val_curves.at("val_loss").size(), 2u);

  SweepPoint p;
  p.keys = {"launch.nproc_per_node"};
  p.values = {"2"};
  write_results_csv(dir / "results.csv", {p}, {r}, 3, "val_loss", 2.85);
  std::ifstream in(dir / "results.csv");
  std::string header, row, extra;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(header,
            "point,name,repeat,launch.nproc_per_node,seed,state,exit_code,workers,batch_size,global_batch,lr,steps,"
            "wall_s,time_s,eval_s,step_s,samples_per_s,comm_fraction,exposed_comm_fraction,bytes_per_step,buckets,"
            "final_loss,final_val_accuracy,final_val_loss,best_loss,best_val_accuracy,best_val_loss,target_metric,"
            "target_value,time_to_target_s,target_step,early_stop_step");
  EXPECT_EQ(row,
            "0,p000-nproc_per_node=2-r0,0,2,3,done,0,2,64,128,0.004,10,4.5,3,1,0.2,640,0.25,0.05,4000,2,2.5,0.25,2.9,"
            "2.5,0.25,2.8,val_loss,2.85,1.5,5,10");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::sweep
