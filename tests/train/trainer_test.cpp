#include "framework/train/trainer.h"

#include "framework/core/error.h"
#include "framework/train/device.h"
#include "framework/train/schedule.h"
#include "framework/train/weight_average.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

/// y = 3x - 1 with noise: a model and a data set small enough to train in ms.
class Line : public Model {
 public:
  Line() { fc = register_module("fc", torch::nn::Linear(1, 1)); }
  torch::Tensor forward(const Batch& b) override { return fc->forward(b.at("x")); }
  torch::Tensor loss(const Batch& b, const torch::Tensor& out) override {
    return torch::mse_loss(out, b.at("y"));
  }
  torch::nn::Linear fc{nullptr};
};

class LineData : public Dataset {
 public:
  explicit LineData(int64_t n) {
    torch::manual_seed(0);
    x_ = torch::rand({n, 1});
    y_ = 3 * x_ - 1 + 0.01 * torch::randn({n, 1});
  }
  int64_t size() const override { return x_.size(0); }
  Batch get(const std::vector<int64_t>& idx) const override {
    auto i = torch::tensor(idx, torch::kInt64);
    return {{{"x", x_.index_select(0, i)}, {"y", y_.index_select(0, i)}}, static_cast<int64_t>(idx.size())};
  }

 private:
  torch::Tensor x_, y_;
};

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("trainer"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  TrainerSetup setup(int64_t epochs) {
    TrainerSetup s;
    torch::manual_seed(0);
    s.model = std::make_shared<Line>();
    s.data = {std::make_shared<LineData>(200), std::make_shared<LineData>(50)};
    s.comm = comm_.get();
    s.trainer.epochs = epochs;
    s.trainer.batch_size = 16;
    s.trainer.log_every = 1;
    s.trainer.checkpoint_every = 5;
    s.trainer.keep_checkpoints = 3;
    s.optim.type = "sgd";
    s.optim.lr = 0.5;
    s.run_dir = RunDir(dir_);
    s.run_dir->create();
    s.config_yaml = "model: {type: line}\n";
    return s;
  }

  std::vector<nlohmann::json> records() {
    std::ifstream in(RunDir(dir_).metrics());
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<dist::Communicator> comm_ = dist::make_local_communicator();
};

TEST_F(TrainerTest, LearnsAndLogsEveryStepOnce) {
  Trainer t(setup(3));
  int after_epoch_calls = 0, after_step_calls = 0;
  t.callbacks().after_epoch.push_back([&](int64_t, const MetricValues&) { ++after_epoch_calls; });
  t.callbacks().after_step.push_back([&](const StepRecord& r) { EXPECT_EQ(r.position.global_step, ++after_step_calls); });
  auto result = t.fit();
  EXPECT_EQ(result.global_step, 3 * 13);  // ceil(200 / 16) steps per epoch
  EXPECT_EQ(after_epoch_calls, 3);
  EXPECT_EQ(after_step_calls, 39);
  ASSERT_TRUE(result.val_metrics.count("val_loss"));
  EXPECT_LT(result.val_metrics.at("val_loss"), 0.05);

  std::vector<int64_t> steps;
  int epochs = 0;
  double sum = 0, samples = 0;
  for (const auto& r : records()) {
    if (r["kind"] == "step") {
      steps.push_back(r["global_step"].get<int64_t>());
      sum += r["loss"].get<double>() * r["samples"].get<double>();
      samples += r["samples"].get<double>();
    }
    if (r["kind"] == "epoch") {
      ++epochs;
      EXPECT_NEAR(r["train_loss"].get<double>(), sum / samples, 1e-9) << "the epoch's sample-weighted mean";
      sum = samples = 0;
    }
  }
  ASSERT_EQ(steps.size(), 39u);
  for (int64_t i = 0; i < 39; ++i) EXPECT_EQ(steps[i], i + 1);
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(records().front()["kind"], "start");
  EXPECT_EQ(records().front()["restart"], 0);
  const auto first = records()[1];
  nlohmann::json last_step;
  for (const auto& r : records()) {
    if (r["kind"] == "step") last_step = r;
  }
  EXPECT_EQ(records().back()["kind"], "end");
  EXPECT_GT(first["loss"].get<double>(), 10 * last_step["loss"].get<double>()) << "the loss went down";

  // Checkpoints every 5 steps and at the end; only the newest 3 are kept.
  auto newest = resolve_checkpoint(dir_);
  EXPECT_EQ(read_checkpoint_info(newest).position.global_step, 39);
  EXPECT_EQ(read_checkpoint_info(newest).position.epoch, 3);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(RunDir(dir_).checkpoints())) files += e.path().extension() == ".pt";
  EXPECT_EQ(files, 3);
}

TEST_F(TrainerTest, Bf16MixedPrecisionTrainsWithFloat32WeightsAndEndsItsAutocast) {
  auto s = setup(3);
  s.trainer.precision = "bf16-mixed";
  Trainer t(std::move(s));
  double first = -1, last = 0;
  t.callbacks().after_log_step.push_back([&](const StepRecord& r) {
    if (first < 0) first = r.loss;
    last = r.loss;
  });
  const auto result = t.fit();
  EXPECT_EQ(result.global_step, 39);
  EXPECT_GT(first, 10 * last) << "the loss went down under bfloat16 autocast";
  EXPECT_LT(result.val_metrics.at("val_loss"), 0.05) << "bfloat16 rounds the forward, not the float32 weights";
  Line loaded;
  load_model_state(resolve_checkpoint(dir_), loaded);
  EXPECT_EQ(loaded.fc->weight.scalar_type(), torch::kFloat32);
  EXPECT_EQ(torch::matmul(torch::ones({1, 2}), torch::ones({2, 1})).scalar_type(), torch::kFloat32)
      << "no autocast left on after fit";
}

// A run on the GPU writes a device-free checkpoint: on the CPU it evaluates to
// the validation loss the GPU run measured, and a resume on the GPU ends where
// an uninterrupted GPU run ends, bit for bit (with trainer.deterministic, as a
// recipe would ask for it). Skipped without a GPU.
TEST_F(TrainerTest, AGpuRunsCheckpointEvaluatesOnTheCpuAndResumesExactly_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  use_deterministic_algorithms();
  const torch::Device gpu(torch::kCUDA, 0);
  auto whole = setup(3);
  whole.device = gpu;
  const auto result = Trainer(std::move(whole)).fit();
  Line on_cpu;
  load_model_state(resolve_checkpoint(dir_), on_cpu);
  EXPECT_TRUE(on_cpu.fc->weight.device().is_cpu());
  const double gpu_loss = result.val_metrics.at("val_loss");
  EXPECT_NEAR(evaluate_model(on_cpu, LineData(50), 64, *comm_).at("loss"), gpu_loss, 1e-5 * std::abs(gpu_loss));
  const auto uninterrupted = on_cpu.fc->weight.clone();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);

  auto first = setup(3);
  first.device = gpu;
  first.trainer.max_steps = 20;  // inside the second epoch
  Trainer(std::move(first)).fit();
  auto rest = setup(3);
  rest.device = gpu;
  rest.resume_from = resolve_checkpoint(dir_);
  EXPECT_EQ(Trainer(std::move(rest)).fit().global_step, 39);
  Line resumed;
  load_model_state(resolve_checkpoint(dir_), resumed);
  EXPECT_TRUE(torch::equal(resumed.fc->weight, uninterrupted));
  at::globalContext().setDeterministicAlgorithms(false, false);
}

TEST_F(TrainerTest, MaxStepsStopsInsideAnEpoch) {
  auto s = setup(5);
  s.trainer.max_steps = 7;
  Trainer t(std::move(s));
  EXPECT_EQ(t.fit().global_step, 7);
  auto info = read_checkpoint_info(resolve_checkpoint(dir_));
  EXPECT_EQ(info.position.global_step, 7);
  EXPECT_EQ(info.position.epoch, 0);
  EXPECT_EQ(info.position.step_in_epoch, 7);
}

TEST_F(TrainerTest, ATargetStopsAtTheFirstValidationThatReachesItAndRecordsTheTime) {
  auto s = setup(3);
  s.trainer.val_every = 3;
  s.trainer.target.metric = "val_loss";
  s.trainer.target.value = 0.5;
  Trainer t(std::move(s));
  const auto result = t.fit();
  ASSERT_TRUE(result.target_reached);
  EXPECT_EQ(result.target_step % 3, 0);
  EXPECT_EQ(result.global_step, result.target_step);
  EXPECT_LT(result.global_step, 13) << "reached inside the first epoch";
  EXPECT_LE(result.val_metrics.at("val_loss"), 0.5);
  // The final checkpoint is where training stopped, inside the epoch.
  const auto info = read_checkpoint_info(resolve_checkpoint(dir_));
  EXPECT_EQ(info.position.global_step, result.global_step);
  EXPECT_EQ(info.position.epoch, 0);
  EXPECT_EQ(info.position.step_in_epoch, result.global_step);
  int evals = 0;
  bool target = false, end = false;
  for (const auto& r : records()) {
    if (r["kind"] == "eval") {
      ++evals;
      EXPECT_EQ(r["global_step"].get<int64_t>() % 3, 0);
      EXPECT_EQ(r["val_loss"].get<double>() <= 0.5, r["global_step"].get<int64_t>() == result.target_step);
    }
    if (r["kind"] == "target") {
      target = true;
      EXPECT_EQ(r["global_step"], result.target_step);
      EXPECT_EQ(r["metric"], "val_loss");
      EXPECT_GT(r["time_s"].get<double>(), 0.0);
    }
    if (r["kind"] == "end") {
      end = true;
      EXPECT_EQ(r["target_reached"], true);
      EXPECT_GE(r["time_s"].get<double>(), r["eval_s"].get<double>());
    }
  }
  EXPECT_EQ(evals, result.target_step / 3);
  EXPECT_TRUE(target);
  EXPECT_TRUE(end);
}

TEST_F(TrainerTest, ATargetWithoutStopIsRecordedOnceAndTrainingGoesOn) {
  auto s = setup(2);
  s.trainer.target.metric = "loss";
  s.trainer.target.value = 1.0;
  s.trainer.target.stop = false;
  Trainer t(std::move(s));
  const auto result = t.fit();
  EXPECT_TRUE(result.target_reached);
  EXPECT_EQ(result.global_step, 26);
  int targets = 0;
  for (const auto& r : records()) targets += r["kind"] == "target";
  EXPECT_EQ(targets, 1);
}

TEST_F(TrainerTest, EarlyStoppingEndsTheRunAfterPatienceValidationsWithoutImprovement) {
  TrainerOptions::EarlyStopping rule;
  rule.min_delta = 0.1;
  EXPECT_TRUE(rule.improves(0.85, 1.0));
  EXPECT_FALSE(rule.improves(0.95, 1.0));  // better, but not by more than min_delta
  rule.mode = Goal::kMax;
  EXPECT_TRUE(rule.improves(1.15, 1.0));
  EXPECT_FALSE(rule.improves(0.5, 1.0));

  // No validation can beat the first by 10: it stops at the third (patience 2), inside epoch 1.
  auto s = setup(10);
  s.trainer.val_every = 3;
  s.trainer.early_stopping.metric = "val_loss";
  s.trainer.early_stopping.patience = 2;
  s.trainer.early_stopping.min_delta = 10.0;
  Trainer t(std::move(s));
  const auto result = t.fit();
  EXPECT_TRUE(result.early_stopped);
  EXPECT_EQ(result.global_step, 9);
  const auto info = read_checkpoint_info(resolve_checkpoint(dir_));
  EXPECT_EQ(info.position.global_step, 9);
  EXPECT_EQ(info.position.epoch, 0);
  EXPECT_EQ(info.position.step_in_epoch, 9);
  EXPECT_TRUE(info.early_stopping.has_best);
  EXPECT_EQ(info.early_stopping.best_step, 3);
  EXPECT_EQ(info.early_stopping.bad, 2);
  int stops = 0;
  for (const auto& r : records()) {
    if (r["kind"] == "early_stop") {
      ++stops;
      EXPECT_EQ(r["metric"], "val_loss");
      EXPECT_EQ(r["best_step"], 3);
      EXPECT_EQ(r["global_step"], 9);
    }
    if (r["kind"] == "end") EXPECT_EQ(r["early_stopped"], true);
  }
  EXPECT_EQ(stops, 1);
}

TEST_F(TrainerTest, WatchingAValidationMetricWithoutAValidationSplitIsBadInput) {
  auto s = setup(2);
  s.data.val.reset();
  s.trainer.early_stopping.metric = "val_loss";
  Trainer t(std::move(s));
  try {
    t.fit();
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_EQ(std::string(e.what()), "trainer.early_stopping.metric: expected a data set with a validation split for "
                                     "'val_loss', got none (the data section holds out no rows)");
  }
}

TEST_F(TrainerTest, AWatchedMetricTheModelDoesNotHaveIsNamedAtTheFirstValidation) {
  auto message = [&](auto configure) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = setup(1);
    configure(s.trainer);
    Trainer t(std::move(s));
    try {
      t.fit();
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message([](TrainerOptions& o) { o.target = {"val_acc", 0.5, Goal::kMax, true}; }),
            "trainer.target.metric: expected one of loss, val_loss (this model's metrics), got 'val_acc'");
  EXPECT_EQ(message([](TrainerOptions& o) { o.early_stopping.metric = "val_acc"; }),
            "trainer.early_stopping.metric: expected one of val_loss (this model's metrics), got 'val_acc'");
  EXPECT_EQ(message([](TrainerOptions& o) { o.best_checkpoint.metric = "val_acc"; }),
            "trainer.best_checkpoint.metric: expected one of val_loss (this model's metrics), got 'val_acc'");
}

TEST_F(TrainerTest, EarlyStoppingCountsOnAcrossAResume) {
  // Epoch-end validations, patience 3, nothing improves after the first: an
  // uninterrupted run stops after epoch 4 (step 52).
  auto configure = [](TrainerSetup& s) {
    s.trainer.early_stopping.metric = "val_loss";
    s.trainer.early_stopping.patience = 3;
    s.trainer.early_stopping.min_delta = 10.0;
  };
  auto whole = setup(10);
  configure(whole);
  EXPECT_EQ(Trainer(std::move(whole)).fit().global_step, 52);
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);

  // Stopped by max_steps after epoch 2 (one validation without improvement so far), then resumed:
  // the count goes on, so it stops after epoch 4 too, not 3 validations after the resume.
  auto first = setup(10);
  configure(first);
  first.trainer.max_steps = 26;
  EXPECT_FALSE(Trainer(std::move(first)).fit().early_stopped);
  EXPECT_EQ(read_checkpoint_info(resolve_checkpoint(dir_)).early_stopping.bad, 1);
  auto rest = setup(10);
  configure(rest);
  rest.resume_from = resolve_checkpoint(dir_);
  const auto result = Trainer(std::move(rest)).fit();
  EXPECT_TRUE(result.early_stopped);
  EXPECT_EQ(result.global_step, 52);
}

TEST_F(TrainerTest, TheBestCheckpointHoldsTheBestValidationsWeightsAcrossAResume) {
  // mode max on val_loss, which falls as the line is learnt: the best is an early validation, so
  // a resumed run that forgot it would overwrite best.pt with a later, lower one.
  auto configure = [](TrainerSetup& s) {
    s.trainer.checkpoint_every = 0;
    s.trainer.best_checkpoint.metric = "val_loss";
    s.trainer.best_checkpoint.mode = Goal::kMax;
  };
  auto first = setup(4);
  configure(first);
  first.trainer.max_steps = 26;
  Trainer(std::move(first)).fit();
  auto rest = setup(4);
  configure(rest);
  rest.resume_from = resolve_checkpoint(dir_);
  Trainer(std::move(rest)).fit();

  // The highest val_loss of the four epoch-end validations, from metrics.jsonl.
  double highest = -1.0;
  int64_t at_step = -1;
  int epochs = 0;
  for (const auto& r : records()) {
    if (r["kind"] != "epoch") continue;
    ++epochs;
    if (r["val_loss"].get<double>() > highest) {
      highest = r["val_loss"].get<double>();
      at_step = r["global_step"].get<int64_t>();
    }
  }
  ASSERT_EQ(epochs, 4);
  const auto best = RunDir(dir_).checkpoints() / "best.pt";
  ASSERT_TRUE(std::filesystem::exists(best));
  const auto info = read_checkpoint_info(best);
  EXPECT_EQ(info.position.global_step, at_step);
  EXPECT_EQ(info.position.step_in_epoch, 0) << "an epoch-end checkpoint resumes at the next epoch";
  EXPECT_DOUBLE_EQ(info.best_checkpoint.best, highest);
  EXPECT_NE(resolve_checkpoint(dir_).filename(), "best.pt") << "resuming takes the newest step, not the best";
  // Its weights give that validation's loss again.
  Line loaded;
  load_model_state(best, loaded);
  LineData val(50);
  EXPECT_NEAR(evaluate_model(loaded, val, 64, *comm_).at("loss"), highest, 1e-6);
}

TEST_F(TrainerTest, ValSamplesValidatesOnTheFirstSamplesOnly) {
  auto s = setup(1);
  s.trainer.val_samples = 10;
  auto model = s.model;
  auto val = s.data.val;
  Trainer t(std::move(s));
  const double logged = t.fit().val_metrics.at("val_loss");
  torch::NoGradGuard g;
  std::vector<int64_t> first(10), all(50);
  std::iota(first.begin(), first.end(), 0);
  std::iota(all.begin(), all.end(), 0);
  const auto first_batch = val->get(first), all_batch = val->get(all);
  EXPECT_NEAR(logged, model->loss(first_batch, model->forward(first_batch)).item<double>(), 1e-6);
  EXPECT_GT(std::abs(logged - model->loss(all_batch, model->forward(all_batch)).item<double>()), 1e-6)
      << "the whole split gives another loss";
}

TEST_F(TrainerTest, WarmupAndCosineDecaySetEveryStepsLearningRate) {
  auto s = setup(2);  // 26 steps
  s.optim.warmup_steps = 4;
  s.optim.decay = LrDecay::kCosine;
  s.optim.min_lr_factor = 0.1;
  Trainer t(std::move(s));
  t.fit();
  const LrSchedule expected{0.5, 4, 26, LrDecay::kCosine, 0.1};
  int checked = 0;
  for (const auto& r : records()) {
    if (r["kind"] != "step") continue;
    const int64_t step = r["global_step"].get<int64_t>();  // logged after the step, with the rate it used
    EXPECT_DOUBLE_EQ(r["lr"].get<double>(), expected.at(step - 1)) << "step " << step;
    ++checked;
  }
  EXPECT_EQ(checked, 26);
  EXPECT_DOUBLE_EQ(expected.at(0), 0.125);
  EXPECT_NEAR(expected.at(25), 0.5 * (0.1 + 0.9 * 0.5 * (1 + std::cos(std::acos(-1.0) * 21.0 / 22.0))), 1e-15);
}

/// Every step's parameters, as training left them.
class RecordParameters : public Callback {
 public:
  explicit RecordParameters(std::shared_ptr<Model> model) : model_(std::move(model)) {}
  void on_step_end(const StepEnd& /*step*/, LoopContext& /*ctx*/) override { after_step.push_back(flat(*model_)); }
  static torch::Tensor flat(torch::nn::Module& m) {
    std::vector<torch::Tensor> parts;
    for (const auto& p : m.parameters()) parts.push_back(p.detach().flatten().clone());
    return torch::cat(parts);
  }
  std::vector<torch::Tensor> after_step;

 private:
  std::shared_ptr<Model> model_;
};

// trainer.average_weights_from 0.5 of 52 steps: the mean of the weights after
// steps 27 to 52 is the trained model, what the last validation scored and
// what the final checkpoint holds, with the last step's weights beside it; a
// run stopped inside the averaging and resumed ends with the same mean.
TEST_F(TrainerTest, WeightAveragingIsTheMeanOfTheLastStepsAndResumesExactly) {
  auto whole = setup(4);
  whole.trainer.average_weights_from = 0.5;
  whole.trainer.keep_checkpoints = 20;
  auto model = whole.model;
  auto recorder = std::make_shared<RecordParameters>(model);
  Trainer trainer(std::move(whole));
  trainer.add_callback(recorder);
  ASSERT_EQ(trainer.fit().global_step, 52);
  ASSERT_EQ(recorder->after_step.size(), 52U);
  torch::Tensor mean = torch::zeros_like(recorder->after_step[0]);
  for (int64_t step = 27; step <= 52; ++step) mean += recorder->after_step[static_cast<std::size_t>(step - 1)];
  mean /= 26.0;
  const torch::Tensor trained = RecordParameters::flat(*model);
  EXPECT_TRUE(torch::allclose(trained, mean, 1e-5, 1e-6)) << trained << mean;
  EXPECT_FALSE(torch::allclose(trained, recorder->after_step.back(), 1e-4, 1e-4)) << "the mean is not the last step";

  const auto final_checkpoint = resolve_checkpoint(dir_);
  const auto info = read_checkpoint_info(final_checkpoint);
  EXPECT_EQ(info.averaged_steps, 26);
  ASSERT_EQ(info.training_weights.size(), 2U);
  EXPECT_TRUE(torch::equal(torch::cat({info.training_weights[0].flatten(), info.training_weights[1].flatten()}),
                           recorder->after_step.back()));
  Line loaded;
  load_model_state(final_checkpoint, loaded);
  EXPECT_TRUE(torch::equal(RecordParameters::flat(loaded), trained)) << "the checkpoint's model is the mean";
  double last_val_loss = 0;
  for (const auto& r : records()) {
    if (r["kind"] == "epoch") last_val_loss = r["val_loss"].get<double>();
  }
  LineData val(50);
  EXPECT_NEAR(evaluate_model(loaded, val, 64, *comm_).at("loss"), last_val_loss, 1e-6);

  // Resumed from the step-40 checkpoint, inside the averaging (14 steps in the
  // mean): the same mean at the end, bit for bit.
  const auto at_40 = checkpoint_path(RunDir(dir_).checkpoints(), 40);
  EXPECT_EQ(read_checkpoint_info(at_40).averaged_steps, 14);
  for (const auto& entry : std::filesystem::directory_iterator(RunDir(dir_).checkpoints())) {
    if (entry.path() != at_40) std::filesystem::remove(entry.path());
  }
  auto rest = setup(4);
  rest.trainer.average_weights_from = 0.5;
  rest.resume_from = at_40;
  auto resumed_model = rest.model;
  EXPECT_EQ(Trainer(std::move(rest)).fit().global_step, 52);
  EXPECT_TRUE(torch::equal(RecordParameters::flat(*resumed_model), trained));
}

// The mean starts after start_step, swaps in and out exactly, and a resume
// into a run that no longer averages gives the training weights back and
// drops the mean.
TEST(WeightAverage, AveragesAfterTheStartSwapsExactlyAndDropsTheMeanWhenOff) {
  EXPECT_EQ(WeightAverage::start_step_for(0.0, 100), -1);
  EXPECT_EQ(WeightAverage::start_step_for(0.25, 1168), 292);
  EXPECT_EQ(WeightAverage::start_step_for(0.5, 1001), 501);
  auto w = torch::zeros({3});
  WeightAverage average({w}, 2);
  for (int64_t step = 1; step <= 5; ++step) {
    w.fill_(static_cast<float>(step));
    average.update(step);
  }
  EXPECT_EQ(average.count(), 3) << "steps 3, 4 and 5";
  {
    AveragedWeightsInModel swapped(average);
    EXPECT_TRUE(torch::equal(w, torch::full({3}, 4.0F))) << "the mean of 3, 4 and 5";
  }
  EXPECT_TRUE(torch::equal(w, torch::full({3}, 5.0F))) << "the training weights are back";

  auto off_w = torch::full({3}, 4.0F);  // a checkpoint's model: the mean
  WeightAverage off({off_w}, -1);
  off.restore({torch::full({3}, 5.0F)}, 3);
  EXPECT_TRUE(torch::equal(off_w, torch::full({3}, 5.0F)));
  EXPECT_FALSE(off.active());
  AveragedWeightsInModel nothing(off);  // not active: nothing to swap
  EXPECT_TRUE(torch::equal(off_w, torch::full({3}, 5.0F)));
}

TEST_F(TrainerTest, AccumulatingMicroBatchesEqualsOneLargeBatch) {
  auto params_after = [&](int64_t batch, int64_t accumulate) {
    auto s = setup(1);
    s.run_dir.reset();
    s.trainer.batch_size = batch;
    s.trainer.accumulate_steps = accumulate;
    s.trainer.max_steps = 6;
    auto model = s.model;
    Trainer t(std::move(s));
    t.fit();
    return torch::cat({model->parameters()[0].flatten(), model->parameters()[1].flatten()}).clone();
  };
  auto one = params_after(16, 1), four = params_after(4, 4);
  EXPECT_TRUE(torch::allclose(one, four, 1e-5, 1e-7)) << one << four;
  EXPECT_FALSE(torch::allclose(one, params_after(4, 1), 1e-3, 1e-3)) << "smaller steps do differ";
}

TEST(EvaluateModel, CountsEverySampleOnce) {
  auto comm = dist::make_local_communicator();
  Line m;
  LineData d(37);
  auto metrics = evaluate_model(m, d, 10, *comm);
  torch::NoGradGuard g;
  auto all = d.get([] { std::vector<int64_t> v(37); std::iota(v.begin(), v.end(), 0); return v; }());
  EXPECT_NEAR(metrics.at("loss"), m.loss(all, m.forward(all)).item<double>(), 1e-6);
}

}  // namespace
}  // namespace tandem
