// The scaling rules (learning rate and batch by worker count) and the
// learning-rate schedule, against hand-worked numbers; the recipe rules that
// keep schedule and target keys consistent.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "framework/core/error.h"
#include "framework/train/options.h"
#include "framework/train/schedule.h"
#include "tests/support/recipe_problems.h"

namespace tandem {
namespace {

TEST(Scaling, LearningRateFollowsTheRuleInWorkersRelativeToTheBase) {
  TrainerOptions t;
  t.batch_size = 256;
  OptimOptions o;
  o.lr = 0.002;
  o.lr_scaling = LrScaling::kLinear;
  auto r = resolve_scaling(t, o, 4);
  EXPECT_DOUBLE_EQ(r.lr, 0.008);
  EXPECT_EQ(r.batch_size, 256);
  EXPECT_EQ(r.global_batch, 1024);
  o.lr_scaling = LrScaling::kSqrt;
  EXPECT_DOUBLE_EQ(resolve_scaling(t, o, 4).lr, 0.004);
  o.lr_base_workers = 2;
  EXPECT_DOUBLE_EQ(resolve_scaling(t, o, 8).lr, 0.004);
  EXPECT_DOUBLE_EQ(resolve_scaling(t, o, 1).lr, 0.002 * std::sqrt(0.5));
  o.lr_scaling = LrScaling::kNone;
  EXPECT_DOUBLE_EQ(resolve_scaling(t, o, 8).lr, 0.002);
}

TEST(Scaling, AConstantGlobalBatchIsSplitOverWorkersAndAccumulationSteps) {
  TrainerOptions t;
  t.batch_size = 999;  // ignored when the global batch is fixed
  t.global_batch_size = 1024;
  t.accumulate_steps = 2;
  OptimOptions o;
  auto r = resolve_scaling(t, o, 4);
  EXPECT_EQ(r.batch_size, 128);
  EXPECT_EQ(r.global_batch, 1024);
  EXPECT_EQ(resolve_scaling(t, o, 1).batch_size, 512);
  try {
    resolve_scaling(t, o, 3);
    FAIL() << "1024 does not split over 3 workers";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("trainer.global_batch_size: expected a multiple of 6 (3 workers x 2 "
                                         "accumulate_steps) so every worker gets the same batch, got 1024"),
              std::string::npos)
        << e.what();
  }
}

TEST(Schedule, WarmupRampsLinearlyThenCosineDecaysToTheFloor) {
  LrSchedule s{0.1, 4, 14, LrDecay::kCosine, 0.1};
  EXPECT_DOUBLE_EQ(s.at(0), 0.025);
  EXPECT_DOUBLE_EQ(s.at(1), 0.05);
  EXPECT_DOUBLE_EQ(s.at(3), 0.1);
  EXPECT_DOUBLE_EQ(s.at(4), 0.1);  // the decay starts at the peak
  EXPECT_NEAR(s.at(9), 0.1 * (0.1 + 0.9 * 0.5), 1e-15);  // half way: the mean of peak and floor
  EXPECT_NEAR(s.at(14), 0.01, 1e-15);
  EXPECT_NEAR(s.at(100), 0.01, 1e-15);
  LrSchedule constant{0.1, 0, 10, LrDecay::kConstant, 0.0};
  EXPECT_DOUBLE_EQ(constant.at(0), 0.1);
  EXPECT_DOUBLE_EQ(constant.at(9), 0.1);
  OptimOptions o;
  o.warmup_epochs = 2.5;
  EXPECT_EQ(warmup_steps_for(o, 10), 25);
  o.warmup_steps = 3;
  EXPECT_EQ(warmup_steps_for(o, 10), 3);
}

TEST(Schedule, ContradictoryScheduleAndTargetKeysAreRecipeErrors) {
  recipe::Section root;
  root.adopt("optim", optim_schema());
  root.adopt("trainer", trainer_schema());
  auto problems = [&](const std::string& text) { return test::recipe_problems(text, root); };
  EXPECT_TRUE(problems("optim: {warmup_steps: 3}\ntrainer: {target: {metric: val_loss, value: 2}}\n").empty());
  auto p = problems("optim: {warmup_steps: 3, warmup_epochs: 1.5}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:1:41: optim.warmup_epochs: expected 0 with optim.warmup_steps 3 (give one of the two), "
                  "got 1.5");
  p = problems("trainer:\n  target: {metric: val_loss}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:2:11: trainer.target.value: expected the value of val_loss to reach, got nothing");
  p = problems("trainer:\n  target: {metric: accuracy, value: 0.9}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0].rfind("r.yaml:2:20: trainer.target.metric: expected `loss` or a validation metric", 0), 0u) << p[0];
  p = problems("trainer:\n  validate: false\n  target: {metric: val_loss, value: 2}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("trainer.target.metric: expected `loss` with trainer.validate false, got 'val_loss'"),
            std::string::npos)
      << p[0];
  EXPECT_TRUE(problems("trainer: {early_stopping: {metric: val_loss, patience: 5}}\n").empty());
  p = problems("trainer:\n  early_stopping: {metric: loss}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:2:28: trainer.early_stopping.metric: expected a validation metric `val_<name>` (e.g. "
                  "val_loss), got 'loss'");
  p = problems("trainer: {validate: false, early_stopping: {metric: val_loss}}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("trainer.early_stopping.metric: expected no early stopping with trainer.validate false"),
            std::string::npos)
      << p[0];
  p = problems("trainer: {best_checkpoint: {metric: accuracy}}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("trainer.best_checkpoint.metric: expected a validation metric `val_<name>`"), std::string::npos)
      << p[0];
  p = problems("trainer: {early_stopping: {metric: val_loss, patience: 0}}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("trainer.early_stopping.patience: expected an integer >= 1, got 0"), std::string::npos) << p[0];
}

}  // namespace
}  // namespace tandem
