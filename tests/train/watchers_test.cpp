// The built-in watchers, driven by hand-made events: no model, no fit.
#include "framework/train/watchers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

/// A loop context whose checkpoints are recorded instead of written, and whose
/// metrics go to a real metrics.jsonl in a temporary directory.
class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("watchers");
    writer_ = std::make_unique<MetricsWriter>(dir_ / "metrics.jsonl", true);
    ctx_.log = &log_;
    ctx_.metrics = writer_.get();
    ctx_.save_checkpoint = [this](const TrainingPosition& at, const std::string& as) { saved_.push_back({at, as}); };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Moves the loop to `step` at `time_s` seconds.
  LoopContext& at(int64_t step, double time_s = 0.0) {
    ctx_.position = {0, step, step};
    ctx_.time_s = time_s;
    return ctx_;
  }

  std::vector<nlohmann::json> records() {
    std::ifstream in(dir_ / "metrics.jsonl");
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  std::filesystem::path dir_;
  RankZero log_{0};
  std::unique_ptr<MetricsWriter> writer_;
  LoopContext ctx_;
  std::vector<std::pair<TrainingPosition, std::string>> saved_;
};

TEST_F(WatcherTest, ATargetOnTheTrainingLossIsReachedOnceAtALogStep) {
  TrainerOptions::Target rule;
  rule.metric = "loss";
  rule.value = 1.0;
  TargetWatcher w(rule);
  w.on_log_step({{0, 1, 1}, 1.5, 0.0}, at(1, 0.5));
  EXPECT_FALSE(w.reached());
  EXPECT_FALSE(ctx_.stop);
  w.on_validation({{"val_loss", 0.1}}, {}, at(2, 0.7));  // validation metrics do not count for `loss`
  EXPECT_FALSE(w.reached());
  w.on_log_step({{0, 3, 3}, 0.9, 0.0}, at(3, 1.25));
  EXPECT_TRUE(w.reached());
  EXPECT_EQ(w.step(), 3);
  EXPECT_DOUBLE_EQ(w.time_s(), 1.25);
  EXPECT_TRUE(ctx_.stop);
  w.on_log_step({{0, 4, 4}, 0.5, 0.0}, at(4, 2.0));  // recorded once: the first time counts
  EXPECT_EQ(w.step(), 3);
  const auto r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["kind"], "target");
  EXPECT_EQ(r[0]["global_step"], 3);
  EXPECT_DOUBLE_EQ(r[0]["value"].get<double>(), 0.9);
}

TEST_F(WatcherTest, AMaxTargetWithoutStopRecordsButLetsTrainingGoOn) {
  TrainerOptions::Target rule;
  rule.metric = "val_accuracy";
  rule.value = 0.8;
  rule.mode = Goal::kMax;
  rule.stop = false;
  TargetWatcher w(rule);
  w.on_validation({{"val_accuracy", 0.79}, {"val_loss", 1.0}}, {}, at(10));
  EXPECT_FALSE(w.reached());
  w.on_validation({{"val_accuracy", 0.8}, {"val_loss", 1.0}}, {}, at(20));
  EXPECT_TRUE(w.reached());
  EXPECT_EQ(w.step(), 20);
  EXPECT_FALSE(ctx_.stop);
}

TEST_F(WatcherTest, AWatchedMetricTheModelLacksIsBadInputNamingTheKeyAndTheChoices) {
  TrainerOptions::EarlyStopping rule;
  rule.metric = "val_acuracy";
  EarlyStoppingWatcher w(rule);
  try {
    w.on_validation({{"val_accuracy", 0.5}, {"val_loss", 1.0}}, {}, at(1));
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(),
                 "trainer.early_stopping.metric: expected one of val_accuracy, val_loss (this model's metrics), got "
                 "'val_acuracy'");
  }
  TrainerOptions::Target target;
  target.metric = "val_auc";
  try {
    TargetWatcher(target).on_validation({{"val_loss", 1.0}}, {}, at(1));
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("expected one of loss, val_loss"), std::string::npos) << e.what();
  }
}

TEST_F(WatcherTest, EarlyStoppingCountsValidationsWithoutImprovementAndStopsAtPatience) {
  TrainerOptions::EarlyStopping rule;
  rule.metric = "val_loss";
  rule.patience = 2;
  rule.min_delta = 0.05;
  EarlyStoppingWatcher w(rule);
  w.on_validation({{"val_loss", 1.0}}, {}, at(10));
  w.on_validation({{"val_loss", 0.9}}, {}, at(20));   // improves by more than min_delta
  w.on_validation({{"val_loss", 0.88}}, {}, at(30));  // better, but not by more than min_delta
  EXPECT_FALSE(ctx_.stop);
  EXPECT_EQ(w.state().bad, 1);
  EXPECT_EQ(w.state().best_step, 20);
  w.on_validation({{"val_loss", std::nan("")}}, {}, at(40));  // NaN never improves
  EXPECT_TRUE(ctx_.stop);
  EXPECT_TRUE(w.stopped());
  EXPECT_DOUBLE_EQ(w.state().best, 0.9);
  const auto r = records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["kind"], "early_stop");
  EXPECT_EQ(r[0]["best_step"], 20);
  EXPECT_EQ(r[0]["validations_without_improvement"], 2);
}

TEST_F(WatcherTest, EarlyStoppingGoesOnFromARestoredState) {
  TrainerOptions::EarlyStopping rule;
  rule.metric = "val_auc";
  rule.mode = Goal::kMax;
  rule.patience = 3;
  EarlyStoppingWatcher w(rule);
  w.restore({true, 0.7, 50, 2});  // as a resumed checkpoint holds it
  w.on_validation({{"val_auc", 0.69}}, {}, at(60));
  EXPECT_TRUE(ctx_.stop) << "third validation without improvement, counting the two before the resume";
}

TEST_F(WatcherTest, TheBestCheckpointIsWrittenOnlyWhenTheMetricImproves) {
  TrainerOptions::BestCheckpoint rule;
  rule.metric = "val_loss";
  BestCheckpointWatcher w(rule);
  const TrainingPosition next_epoch{1, 0, 10};
  w.on_validation({{"val_loss", 1.0}}, next_epoch, at(10));
  w.on_validation({{"val_loss", 1.0}}, {}, at(15));  // equal is not better
  w.on_validation({{"val_loss", 0.5}}, {0, 20, 20}, at(20));
  w.on_validation({{"val_loss", 0.7}}, {}, at(25));
  ASSERT_EQ(saved_.size(), 2u);
  EXPECT_EQ(saved_[0].second, "best.pt");
  EXPECT_EQ(saved_[0].first.epoch, 1) << "at an epoch's end it resumes at the next epoch";
  EXPECT_EQ(saved_[0].first.step_in_epoch, 0);
  EXPECT_EQ(saved_[1].first.global_step, 20);
  EXPECT_DOUBLE_EQ(w.state().best, 0.5);
  EXPECT_EQ(w.state().best_step, 20);
  EXPECT_FALSE(ctx_.stop);
}

TEST(RequireValidationSplit, NamesTheKeyWatchingAValidationMetric) {
  TrainerOptions t;
  t.target.metric = "loss";
  EXPECT_NO_THROW(require_validation_split(t, false)) << "the training loss needs no validation split";
  t.best_checkpoint.metric = "val_loss";
  EXPECT_NO_THROW(require_validation_split(t, true));
  try {
    require_validation_split(t, false);
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("trainer.best_checkpoint.metric"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem
