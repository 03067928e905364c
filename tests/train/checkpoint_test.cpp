#include "framework/train/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

struct Tiny : torch::nn::Module {
  Tiny() { fc = register_module("fc", torch::nn::Linear(3, 2)); }
  torch::nn::Linear fc{nullptr};
};

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("ckpt"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Checkpoints, RoundTripModelOptimizerPositionConfigAndRng) {
  torch::manual_seed(1);
  Tiny a;
  torch::optim::Adam opt_a(a.parameters(), torch::optim::AdamOptions(0.1));
  a.fc->forward(torch::randn({4, 3})).sum().backward();
  opt_a.step();
  torch::manual_seed(99);
  const auto path = checkpoint_path(dir_, 12);
  save_checkpoint(path, a, &opt_a, {{1, 5, 12}, "model: {type: x}\n", "0.1.0"});
  const auto expected_draw = torch::rand({3});

  auto info = read_checkpoint_info(path);
  EXPECT_EQ(info.position.epoch, 1);
  EXPECT_EQ(info.position.step_in_epoch, 5);
  EXPECT_EQ(info.position.global_step, 12);
  EXPECT_EQ(info.config_yaml, "model: {type: x}\n");
  EXPECT_EQ(info.tandem_version, "0.1.0");

  torch::manual_seed(2);
  Tiny b;
  torch::optim::Adam opt_b(b.parameters(), torch::optim::AdamOptions(0.1));
  load_model_state(path, b);
  load_training_state(path, opt_b);
  EXPECT_TRUE(torch::equal(a.fc->weight, b.fc->weight));
  EXPECT_TRUE(torch::equal(a.fc->bias, b.fc->bias));
  EXPECT_TRUE(torch::equal(torch::rand({3}), expected_draw)) << "the RNG continues where it was saved";
  // The optimizer state came back: one more identical step keeps them identical.
  auto x = torch::randn({4, 3});
  opt_a.zero_grad();
  opt_b.zero_grad();
  for (auto* m : {&a, &b}) m->fc->forward(x).sum().backward();
  opt_a.step();
  opt_b.step();
  EXPECT_TRUE(torch::equal(a.fc->weight, b.fc->weight));
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST_F(Checkpoints, ResolvesTheNewestAndPrunesOld) {
  Tiny m;
  for (int64_t step : {5, 10, 100}) save_checkpoint(checkpoint_path(dir_ / "", step), m, nullptr, {{0, 0, step}, "", ""});
  std::filesystem::create_directories(dir_ / "run" / "checkpoints");
  std::filesystem::rename(checkpoint_path(dir_, 5), checkpoint_path(dir_ / "run" / "checkpoints", 5));
  EXPECT_EQ(resolve_checkpoint(dir_), checkpoint_path(dir_, 100));
  EXPECT_EQ(resolve_checkpoint(dir_ / "run"), checkpoint_path(dir_ / "run" / "checkpoints", 5));
  prune_checkpoints(dir_, 1);
  EXPECT_FALSE(std::filesystem::exists(checkpoint_path(dir_, 10)));
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(dir_, 100)));
  EXPECT_THROW(resolve_checkpoint(dir_ / "nothing-here"), BadInput);
  std::filesystem::create_directories(dir_ / "empty");
  EXPECT_THROW(resolve_checkpoint(dir_ / "empty"), BadInput);
}

TEST_F(Checkpoints, AGarbageFileIsBadInput) {
  const auto path = dir_ / "step-000000001.pt";
  std::ofstream(path) << "not a checkpoint";
  EXPECT_THROW(read_checkpoint_info(path), BadInput);
}

TEST_F(Checkpoints, AnInterruptedWriteLeavesThePreviousCheckpoint) {
  Tiny m;
  const auto path = checkpoint_path(dir_, 1);
  save_checkpoint(path, m, nullptr, {{0, 0, 1}, "first", ""});
  // A writer killed mid-way leaves only a partial temporary file behind.
  std::ofstream(path.string() + ".tmp") << "partial";
  EXPECT_EQ(read_checkpoint_info(resolve_checkpoint(dir_)).config_yaml, "first");
}

}  // namespace
}  // namespace tandem
