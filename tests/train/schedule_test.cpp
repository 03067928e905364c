// The scaling rules (learning rate and batch by worker count) and the
// learning-rate schedule, against hand-worked numbers; the recipe rules that
// keep schedule and target keys consistent.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "framework/core/error.h"
#include "framework/recipe/recipe.h"
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

// One declaration per option: an empty trainer: or optim: section reads as
// the structs' own defaults (and the optimizer's own lr), and values reach
// their fields, nested ones and enums included.
recipe::Section trainer_and_optim() {
  recipe::Section root;
  root.adopt("optim", optim_schema());
  root.adopt("trainer", trainer_schema());
  return root;
}

TEST(TrainerOptionsSection, AnEmptySectionIsTheStructsDefaults) {
  const auto cfg = recipe::load_text("trainer: {}\n", "r.yaml", {}, trainer_and_optim()).config;
  const TrainerOptions got = trainer_options_from(cfg["trainer"]), d;
  EXPECT_EQ(got.epochs, d.epochs);
  EXPECT_EQ(got.max_steps, d.max_steps);
  EXPECT_EQ(got.batch_size, d.batch_size);
  EXPECT_EQ(got.accumulate_steps, d.accumulate_steps);
  EXPECT_EQ(got.seed, d.seed);
  EXPECT_EQ(got.log_every, d.log_every);
  EXPECT_EQ(got.checkpoint_every, d.checkpoint_every);
  EXPECT_EQ(got.keep_checkpoints, d.keep_checkpoints);
  EXPECT_EQ(got.grad_clip, d.grad_clip);
  EXPECT_EQ(got.validate, d.validate);
  EXPECT_EQ(got.val_batch_size, d.val_batch_size);
  EXPECT_EQ(got.samples_at_end, d.samples_at_end);
  EXPECT_EQ(got.global_batch_size, d.global_batch_size);
  EXPECT_EQ(got.val_every, d.val_every);
  EXPECT_EQ(got.val_samples, d.val_samples);
  EXPECT_EQ(got.device, d.device);
  EXPECT_EQ(got.precision, d.precision);
  EXPECT_EQ(got.deterministic, d.deterministic);
  EXPECT_TRUE(got.target.metric.empty());
  EXPECT_TRUE(std::isnan(got.target.value)) << "no target value given";
  EXPECT_EQ(got.target.mode, d.target.mode);
  EXPECT_EQ(got.target.stop, d.target.stop);
  EXPECT_TRUE(got.early_stopping.metric.empty());
  EXPECT_EQ(got.early_stopping.mode, d.early_stopping.mode);
  EXPECT_EQ(got.early_stopping.patience, d.early_stopping.patience);
  EXPECT_EQ(got.early_stopping.min_delta, d.early_stopping.min_delta);
  EXPECT_TRUE(got.best_checkpoint.metric.empty());
  EXPECT_EQ(got.best_checkpoint.mode, d.best_checkpoint.mode);
}

TEST(TrainerOptionsSection, ValuesReachTheirFieldsNestedOnesAndEnums) {
  const auto cfg = recipe::load_text(
                       "trainer:\n  epochs: 3\n  seed: 7\n  precision: bf16-mixed\n"
                       "  target: {metric: val_loss, value: 0.5, mode: max, stop: false}\n"
                       "  early_stopping: {metric: val_accuracy, mode: max, patience: 2, min_delta: 0.01}\n"
                       "  best_checkpoint: {metric: val_nll}\n",
                       "r.yaml", {}, trainer_and_optim())
                       .config;
  const TrainerOptions t = trainer_options_from(cfg["trainer"]);
  EXPECT_EQ(t.epochs, 3);
  EXPECT_EQ(t.seed, 7u);
  EXPECT_EQ(t.precision, "bf16-mixed");
  EXPECT_EQ(t.target.metric, "val_loss");
  EXPECT_DOUBLE_EQ(t.target.value, 0.5);
  EXPECT_EQ(t.target.mode, Goal::kMax);
  EXPECT_FALSE(t.target.stop);
  EXPECT_EQ(t.early_stopping.metric, "val_accuracy");
  EXPECT_EQ(t.early_stopping.mode, Goal::kMax);
  EXPECT_EQ(t.early_stopping.patience, 2);
  EXPECT_DOUBLE_EQ(t.early_stopping.min_delta, 0.01);
  EXPECT_EQ(t.best_checkpoint.metric, "val_nll");
  EXPECT_EQ(t.best_checkpoint.mode, Goal::kMin);
}

TEST(OptimOptionsSection, AnEmptySectionIsTheStructsDefaultsWithTheOptimizersOwnLr) {
  const auto cfg = recipe::load_text("optim: {}\n", "r.yaml", {}, trainer_and_optim()).config;
  const OptimOptions got = optim_options_from(cfg["optim"]), d;
  EXPECT_EQ(got.type, d.type);
  EXPECT_DOUBLE_EQ(got.lr.value(), learning_rate(d)) << "adam's own default";
  EXPECT_EQ(got.lr_scaling, d.lr_scaling);
  EXPECT_EQ(got.lr_base_workers, d.lr_base_workers);
  EXPECT_EQ(got.warmup_steps, d.warmup_steps);
  EXPECT_EQ(got.warmup_epochs, d.warmup_epochs);
  EXPECT_EQ(got.decay, d.decay);
  EXPECT_EQ(got.min_lr_factor, d.min_lr_factor);
  // Each optimizer's default lr is its own, in a recipe and in code alike.
  const auto sgd = recipe::load_text("optim: {type: sgd, decay: cosine, lr_scaling: sqrt}\n", "r.yaml", {},
                                     trainer_and_optim())
                       .config;
  const OptimOptions s = optim_options_from(sgd["optim"]);
  OptimOptions in_code;
  in_code.type = "sgd";
  EXPECT_DOUBLE_EQ(s.lr.value(), 0.01);
  EXPECT_DOUBLE_EQ(learning_rate(in_code), 0.01);
  EXPECT_EQ(s.decay, LrDecay::kCosine);
  EXPECT_EQ(s.lr_scaling, LrScaling::kSqrt);
}

}  // namespace
}  // namespace tandem
