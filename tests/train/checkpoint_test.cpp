#include "framework/train/checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

struct Tiny : torch::nn::Module {
  Tiny() { fc = register_module("fc", torch::nn::Linear(3, 2)); }
  torch::nn::Linear fc{nullptr};
};

/// Tiny with a buffer whose shape a model fits to its data (a time grid).
struct Fitted : torch::nn::Module {
  Fitted() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    grid = register_buffer("grid", torch::zeros({1}));
  }
  torch::nn::Linear fc{nullptr};
  torch::Tensor grid;
};

/// Tiny and Fitted's layout with every tensor on the meta device, which stands
/// in for a GPU on a machine without one: it holds no data, but a tensor's
/// device is checked as on any other. (LibTorch 1.13's Module::to cannot move
/// a CPU module there, so the tensors are made on it.)
struct MetaLinear : torch::nn::Module {
  MetaLinear() {
    const auto meta = torch::TensorOptions().device(torch::kMeta);
    weight = register_parameter("weight", torch::empty({2, 3}, meta));
    bias = register_parameter("bias", torch::empty({2}, meta));
  }
  torch::Tensor weight, bias;
};

struct MetaFitted : torch::nn::Module {
  explicit MetaFitted(bool with_grid) {
    fc = register_module("fc", std::make_shared<MetaLinear>());
    if (with_grid) grid = register_buffer("grid", torch::empty({1}, torch::TensorOptions().device(torch::kMeta)));
  }
  std::shared_ptr<MetaLinear> fc;
  torch::Tensor grid;
};

/// Every tensor a checkpoint file holds (model, optimizer, RNG), read without
/// a map location: each on the device it was written from.
std::vector<torch::Tensor> stored_tensors(torch::serialize::InputArchive& archive) {
  std::vector<torch::Tensor> out;
  for (const auto& key : archive.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive child;
    c10::IValue v;
    if (archive.try_read(key, t) || archive.try_read(key, t, /*is_buffer=*/true)) {
      out.push_back(t);
    } else if (archive.try_read(key, child)) {
      for (auto& c : stored_tensors(child)) out.push_back(c);
    } else if (archive.try_read(key, v) && v.isTensorList()) {
      for (const auto& c : v.toTensorVector()) out.push_back(c);
    }
  }
  return out;
}

std::vector<torch::Tensor> stored_tensors(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  return stored_tensors(archive);
}

/// Adam's exp_avg of every parameter that has state.
std::vector<torch::Tensor> adam_moments(torch::optim::Optimizer& optimizer) {
  std::vector<torch::Tensor> out;
  for (auto& entry : optimizer.state()) {
    out.push_back(static_cast<torch::optim::AdamParamState&>(*entry.second).exp_avg());
  }
  return out;
}

/// One Adam step of `m` on a fixed batch, on the model's device.
void adam_step(Tiny& m, torch::optim::Adam& opt, const torch::Tensor& x) {
  opt.zero_grad();
  m.fc->forward(x.to(m.fc->weight.device())).pow(2).sum().backward();
  opt.step();
}

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

TEST_F(Checkpoints, EveryStoredTensorIsOnTheCpuAndModuleLoadReadsTheModel) {
  torch::manual_seed(3);
  Tiny a;
  torch::optim::Adam opt(a.parameters(), torch::optim::AdamOptions(0.1));
  adam_step(a, opt, torch::randn({4, 3}));
  const auto path = checkpoint_path(dir_, 1);
  save_checkpoint(path, a, &opt, {{0, 1, 1}, "", ""});
  const auto stored = stored_tensors(path);
  // weight, bias, 2 x (exp_avg, exp_avg_sq), rng_cpu at least
  EXPECT_GE(stored.size(), 7u);
  for (const auto& t : stored) EXPECT_TRUE(t.is_cpu()) << t.device();
  // The model part has Module::save's layout: LibTorch's own Module::load reads it.
  torch::serialize::InputArchive archive, model_archive;
  archive.load_from(path.string());
  archive.read("model", model_archive);
  Tiny b;
  b.load(model_archive);
  EXPECT_TRUE(torch::equal(a.fc->weight, b.fc->weight));
  EXPECT_TRUE(torch::equal(a.fc->bias, b.fc->bias));
}

TEST_F(Checkpoints, OneOpenCheckpointLoadsTwoModelsWithoutSharingTheirTensors) {
  Fitted a;
  {
    torch::NoGradGuard g;
    a.grid.set_(torch::arange(5.0f));  // fitted: another shape than a fresh model's
  }
  const auto path = checkpoint_path(dir_, 1);
  save_checkpoint(path, a, nullptr, {{0, 0, 1}, "x: 1\n", "v"});
  Checkpoint checkpoint(path);
  EXPECT_EQ(checkpoint.info().config_yaml, "x: 1\n");
  Fitted b, c;
  checkpoint.load_model(b);
  checkpoint.load_model(c);
  EXPECT_TRUE(torch::equal(b.grid, a.grid));
  b.grid.add_(1.0);
  EXPECT_TRUE(torch::equal(c.grid, a.grid)) << "a replaced tensor must not be the archive's own storage";
  const auto tensors = checkpoint.model_tensors();
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"fc.bias", "fc.weight", "grid"}));
}

TEST_F(Checkpoints, TheCudaRandomStateTableRoundTripsAndIsIgnoredOnTheCpu) {
  EXPECT_FALSE(device_rng_state(torch::kCPU).defined()) << "the CPU generator is saved by save_checkpoint itself";
  Tiny a;
  torch::optim::Adam opt_a(a.parameters(), torch::optim::AdamOptions(0.1));
  adam_step(a, opt_a, torch::ones({2, 3}));
  CheckpointInfo info{{0, 1, 1}, "", ""};
  info.world_size = 2;
  info.rng_cuda_ranks = torch::arange(32, torch::kUInt8).reshape({2, 16});  // as two ranks' Philox states
  const auto path = checkpoint_path(dir_, 1);
  save_checkpoint(path, a, &opt_a, info);
  const auto read = read_checkpoint_info(path);
  ASSERT_TRUE(read.rng_cuda_ranks.defined());
  EXPECT_TRUE(torch::equal(read.rng_cuda_ranks, info.rng_cuda_ranks));
  EXPECT_FALSE(read.rng_cpu_ranks.defined());
  // Resumed on the CPU, the CUDA states are not needed: rank 0 is exact.
  torch::optim::Adam opt_b(a.parameters(), torch::optim::AdamOptions(0.1));
  EXPECT_TRUE(load_training_state(path, opt_b, 0, torch::kCPU));
  EXPECT_FALSE(load_training_state(path, opt_b, 1, torch::kCPU)) << "no CPU state for rank 1";
}

TEST_F(Checkpoints, TheLossScaleOfA16MixedRunRoundTripsAndIsAbsentOtherwise) {
  Tiny a;
  torch::optim::Adam opt(a.parameters(), torch::optim::AdamOptions(0.1));
  CheckpointInfo info{{0, 1, 1}, "", ""};
  save_checkpoint(checkpoint_path(dir_, 1), a, &opt, info);
  EXPECT_FALSE(read_checkpoint_info(checkpoint_path(dir_, 1)).loss_scale.has_value());
  info.loss_scale = LossScale{2048.0, 17, 3};
  save_checkpoint(checkpoint_path(dir_, 2), a, &opt, info);
  const auto read = read_checkpoint_info(checkpoint_path(dir_, 2));
  ASSERT_TRUE(read.loss_scale.has_value());
  EXPECT_DOUBLE_EQ(read.loss_scale->scale, 2048.0);
  EXPECT_EQ(read.loss_scale->good_steps, 17);
  EXPECT_EQ(read.loss_scale->skipped_steps, 3);
}

TEST_F(Checkpoints, LoadsAcrossDevicesIntoTheTensorsWhereTheyAre) {
  // From the CPU archive into tensors on another device (meta, see MetaLinear):
  // parameters, a buffer of another shape, and the optimizer state.
  torch::manual_seed(4);
  Fitted a;
  {
    torch::NoGradGuard g;
    a.grid.set_(torch::arange(5.0f));
  }
  Tiny t;
  torch::optim::Adam opt_t(t.parameters(), torch::optim::AdamOptions(0.1));
  adam_step(t, opt_t, torch::randn({4, 3}));
  const auto model_path = checkpoint_path(dir_, 1), train_path = checkpoint_path(dir_, 2);
  save_checkpoint(model_path, a, nullptr, {{0, 0, 1}, "", ""});
  save_checkpoint(train_path, t, &opt_t, {{0, 1, 2}, "", ""});

  MetaFitted b(/*with_grid=*/true);
  load_model_state(model_path, b);
  for (const auto& p : b.parameters()) EXPECT_TRUE(p.is_meta());
  EXPECT_TRUE(b.grid.is_meta());
  EXPECT_EQ(b.grid.sizes(), a.grid.sizes());

  MetaFitted u(/*with_grid=*/false);
  torch::optim::Adam opt_u(u.parameters(), torch::optim::AdamOptions(0.1));
  EXPECT_TRUE(load_training_state(train_path, opt_u, 0, torch::kMeta));
  const auto moments = adam_moments(opt_u);
  ASSERT_EQ(moments.size(), 2u);
  for (const auto& m : moments) EXPECT_TRUE(m.is_meta()) << m.device();
}

// ---- On a GPU (skipped without one) ----

TEST_F(Checkpoints, AGpuCheckpointLoadsOnTheCpuAndOnTheGpu_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device gpu(torch::kCUDA, 0);
  torch::manual_seed(5);
  Tiny a;
  a.to(gpu);
  torch::optim::Adam opt_a(a.parameters(), torch::optim::AdamOptions(0.05));
  const auto x = torch::randn({8, 3});
  adam_step(a, opt_a, x);
  const auto path = checkpoint_path(dir_, 1);
  CheckpointInfo info{{0, 1, 1}, "", ""};
  info.rng_cuda_ranks = device_rng_state(gpu).unsqueeze(0);
  save_checkpoint(path, a, &opt_a, info);
  for (const auto& t : stored_tensors(path)) EXPECT_TRUE(t.is_cpu()) << t.device();
  for (const auto& m : adam_moments(opt_a)) EXPECT_TRUE(m.is_cuda()) << "saving leaves the live state where it is";

  // Into a CPU model and optimizer: what an evaluation on a CPU-only machine does.
  Tiny cpu;
  torch::optim::Adam opt_cpu(cpu.parameters(), torch::optim::AdamOptions(0.05));
  load_model_state(path, cpu);
  EXPECT_TRUE(load_training_state(path, opt_cpu, 0, torch::kCPU));
  EXPECT_TRUE(torch::equal(cpu.fc->weight, a.fc->weight.cpu()));
  for (const auto& m : adam_moments(opt_cpu)) EXPECT_TRUE(m.is_cpu());

  // Into a GPU model: a resume. The state follows the parameters, the CUDA
  // generator continues where it was saved, and one more step stays identical.
  Tiny g;
  g.to(gpu);
  torch::optim::Adam opt_g(g.parameters(), torch::optim::AdamOptions(0.05));
  const auto draw = torch::rand({4}, torch::TensorOptions().device(gpu));
  load_model_state(path, g);
  EXPECT_TRUE(load_training_state(path, opt_g, 0, gpu));
  EXPECT_TRUE(torch::equal(torch::rand({4}, torch::TensorOptions().device(gpu)), draw));
  for (const auto& m : adam_moments(opt_g)) EXPECT_TRUE(m.is_cuda()) << m.device();
  adam_step(a, opt_a, x);
  adam_step(g, opt_g, x);
  adam_step(cpu, opt_cpu, x);
  EXPECT_TRUE(torch::equal(g.fc->weight, a.fc->weight));
  EXPECT_TRUE(torch::allclose(cpu.fc->weight, a.fc->weight.cpu(), 1e-5, 1e-6));
}

}  // namespace
}  // namespace tandem
