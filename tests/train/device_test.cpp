// trainer.device and trainer.precision: which device a rank takes, the data
// sets that feed it, autocast and dynamic loss scaling.
#include "framework/train/device.h"
#include "framework/train/precision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "framework/core/error.h"
#include "framework/train/options.h"
#include "tests/support/recipe_problems.h"

namespace tandem {
namespace {

DeviceContext gpus(int64_t count, int local_rank, int local_world, bool visible_set = false) {
  DeviceContext c;
  c.cuda_devices = count;
  c.local_rank = local_rank;
  c.local_world_size = local_world;
  c.cuda_visible_set = visible_set;
  return c;
}

std::string bad_input(const std::string& option, const DeviceContext& c) {
  try {
    resolve_device(option, c);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "";
}

TEST(ResolveDevice, AutoTakesTheRanksOwnGpuOrTheCpu) {
  EXPECT_EQ(resolve_device("auto", gpus(0, 1, 2)), torch::Device(torch::kCPU));
  EXPECT_EQ(resolve_device("auto", gpus(8, 3, 8)), torch::Device(torch::kCUDA, 3));
  EXPECT_EQ(resolve_device("cuda", gpus(2, 0, 2)), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(resolve_device("cpu", gpus(8, 3, 8)), torch::Device(torch::kCPU));
}

TEST(ResolveDevice, AProcessGivenOneGpuByCudaVisibleDevicesUsesIndexZero) {
  // Slurm or Kubernetes set CUDA_VISIBLE_DEVICES per process: local rank 3 sees its GPU as cuda:0.
  EXPECT_EQ(resolve_device("cuda", gpus(1, 3, 4, /*visible_set=*/true)), torch::Device(torch::kCUDA, 0));
}

TEST(ResolveDevice, ARankWithoutAGpuOfItsOwnIsBadInputNamingTheKey) {
  const std::string e = bad_input("cuda", gpus(1, 1, 2));
  EXPECT_NE(e.find("trainer.device: expected a GPU of its own for local rank 1 (2 workers on this host), got 1 "
                   "visible GPU;"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("--nproc-per-node gpu"), std::string::npos) << e;
  EXPECT_NE(bad_input("auto", gpus(1, 1, 2)).find("local rank 1"), std::string::npos) << "never wraps modulo";
  EXPECT_NE(bad_input("cuda", gpus(0, 0, 1)).find("trainer.device: expected a visible CUDA device for 'cuda', got "
                                                  "none"),
            std::string::npos);
}

TEST(ResolveDevice, ANamedGpuIsSharedByEveryRankWhenItExists) {
  EXPECT_EQ(resolve_device("cuda:0", gpus(1, 1, 2)), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(bad_input("cuda:2", gpus(2, 0, 1)), "trainer.device: expected cuda:0 … cuda:1 (2 visible), got 'cuda:2'");
  EXPECT_EQ(bad_input("cuda:x", gpus(2, 0, 1)), "trainer.device: expected cuda:0 … cuda:1 (2 visible), got 'cuda:x'");
  EXPECT_EQ(bad_input("gpu", gpus(2, 0, 1)), "trainer.device: expected auto, cpu, cuda or cuda:N, got 'gpu'");
}

TEST(TrainerSchema, DeviceAndPrecisionAreCheckedWithTheirLine) {
  recipe::Section root;
  root.adopt("trainer", trainer_schema());
  EXPECT_TRUE(test::recipe_problems("trainer: {device: cuda:1, precision: bf16-mixed}\n", root).empty());
  EXPECT_TRUE(test::recipe_problems("trainer: {precision: 32}\n", root).empty());
  auto p = test::recipe_problems("trainer:\n  device: gpu0\n", root);
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:2:11: trainer.device: expected auto, cpu, cuda or cuda:N, got 'gpu0'");
  p = test::recipe_problems("trainer:\n  precision: fp16\n", root);
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("r.yaml:2:14: trainer.precision"), std::string::npos) << p[0];
}

// trainer.deterministic: every switch LibTorch has for repeatable results is
// on, and an explicit CUBLAS_WORKSPACE_CONFIG is kept.
TEST(Deterministic, TurnsOnDeterministicAlgorithmsAndCudnnAndKeepsAUsersCublasWorkspace) {
  auto& context = at::globalContext();
  unsetenv("CUBLAS_WORKSPACE_CONFIG");
  use_deterministic_algorithms();
  EXPECT_TRUE(context.deterministicAlgorithms());
  EXPECT_TRUE(context.deterministicCuDNN());
  EXPECT_FALSE(context.benchmarkCuDNN());
  EXPECT_STREQ(std::getenv("CUBLAS_WORKSPACE_CONFIG"), ":4096:8");
  setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8", 1);
  use_deterministic_algorithms();
  EXPECT_STREQ(std::getenv("CUBLAS_WORKSPACE_CONFIG"), ":16:8");
  // Training still works on the CPU with them on.
  auto w = torch::ones({3}, torch::requires_grad());
  (w * torch::randn({3})).sum().backward();
  EXPECT_TRUE(w.grad().defined());
  context.setDeterministicAlgorithms(false, false);
  context.setDeterministicCuDNN(false);
  unsetenv("CUBLAS_WORKSPACE_CONFIG");
}

TEST(OnDevice, TheCpuReadsTheDataSetItself) {
  struct Rows : Dataset {
    int64_t size() const override { return 3; }
    Batch get(const std::vector<int64_t>& idx) const override {
      return {{{"x", torch::tensor(idx, torch::kInt64)}}, static_cast<int64_t>(idx.size())};
    }
  };
  auto rows = std::make_shared<Rows>();
  EXPECT_EQ(on_device(rows, torch::kCPU).get(), rows.get());
  const Batch b = to_device(rows->get({2, 0}), torch::kCPU);
  EXPECT_TRUE(torch::equal(b.at("x"), torch::tensor({2, 0}, torch::kInt64)));
  EXPECT_EQ(b.size, 2);
}

TEST(OnDevice, SmallDataIsResidentOnTheGpuAndGivesTheSameBatches_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  struct Rows : Dataset {
    int64_t size() const override { return 100; }
    Batch get(const std::vector<int64_t>& idx) const override {
      auto i = torch::tensor(idx, torch::kInt64);
      return {{{"x", i.to(torch::kFloat32) * 0.5}, {"y", i}}, static_cast<int64_t>(idx.size())};
    }
  };
  auto rows = std::make_shared<Rows>();
  const torch::Device gpu(torch::kCUDA, 0);
  for (const int64_t limit : {int64_t{1} << 20, int64_t{16}}) {  // resident, then staged through pinned memory
    auto d = on_device(rows, gpu, limit);
    const Batch b = d->get({7, 99, 0});
    EXPECT_TRUE(b.at("x").is_cuda());
    EXPECT_TRUE(torch::equal(b.at("x").cpu(), rows->get({7, 99, 0}).at("x")));
    EXPECT_TRUE(torch::equal(b.at("y").cpu(), rows->get({7, 99, 0}).at("y")));
  }
}

TEST(LossScaler, FiniteStepsUnscaleAndGrowTheScaleAfterTheInterval) {
  LossScaler scaler(torch::kCPU);
  auto g = torch::full({3}, 65536.0 * 0.25);
  EXPECT_TRUE(scaler.unscale_and_update({g, torch::Tensor()}));  // an undefined grad (frozen) is ignored
  EXPECT_TRUE(torch::allclose(g, torch::full({3}, 0.25)));
  EXPECT_EQ(scaler.state().good_steps, 1);
  for (int64_t i = 1; i < LossScaler::kGrowthInterval; ++i) scaler.unscale_and_update({torch::ones({1})});
  EXPECT_DOUBLE_EQ(scaler.state().scale, 65536.0 * 2);
  EXPECT_EQ(scaler.state().good_steps, 0);
  EXPECT_DOUBLE_EQ(scaler.scaled(torch::ones({})).item<double>(), 131072.0);
}

TEST(LossScaler, ANonFiniteGradientSkipsTheStepAndHalvesTheScale) {
  LossScaler scaler(torch::kCPU);
  scaler.unscale_and_update({torch::ones({2})});
  auto bad = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(scaler.unscale_and_update({torch::ones({2}), bad}));
  EXPECT_DOUBLE_EQ(scaler.state().scale, 32768.0);
  EXPECT_EQ(scaler.state().good_steps, 0);
  EXPECT_EQ(scaler.state().skipped_steps, 1);
  EXPECT_FALSE(scaler.unscale_and_update({torch::tensor({std::nanf("")})}));
  EXPECT_EQ(scaler.state().skipped_steps, 2);
  scaler.restore({1024.0, 5, 0});
  EXPECT_DOUBLE_EQ(scaler.scaled(torch::ones({})).item<double>(), 1024.0);
}

TEST(MixedPrecision, Bf16AutocastCoversTheForwardAndEndsWithIt) {
  MixedPrecision bf16("bf16-mixed", torch::kCPU);
  EXPECT_EQ(bf16.scaler(), nullptr);
  auto w = torch::randn({4, 4});
  auto x = torch::randn({2, 4});
  {
    const auto autocast = bf16.autocast();
    EXPECT_EQ(torch::matmul(x, w).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::matmul(x, w).scalar_type(), torch::kFloat32) << "autocast must end with the guard";
  MixedPrecision fp32("32", torch::kCPU);
  {
    const auto autocast = fp32.autocast();
    EXPECT_EQ(torch::matmul(x, w).scalar_type(), torch::kFloat32);
  }
}

TEST(MixedPrecision, Float16OnTheCpuIsBadInputNamingTheKey) {
  try {
    MixedPrecision("16-mixed", torch::kCPU);
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("trainer.precision: expected 32 or bf16-mixed on cpu"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tandem
