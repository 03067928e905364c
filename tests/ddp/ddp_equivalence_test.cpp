// The DDP contract: N ranks with batch B each take the same steps as one
// process with batch N*B. Checked with real processes over Gloo.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>

#include <c10/core/impl/VirtualGuardImpl.h>

#include "framework/ddp/distributed_data_parallel.h"
#include "tests/support/ddp_options.h"
#include "tests/support/multiprocess.h"

namespace tandem::ddp {
namespace {

constexpr int kSteps = 20;
constexpr int kBatchPerRank = 8;
constexpr int kWorld = 2;

/// A small network whose parameters have different sizes, so bucket caps
/// produce different plans, with an LSTM so the graph is not trivial.
struct Net : torch::nn::Module {
  Net() {
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(5, 12).num_layers(2).batch_first(true)));
    fc1 = register_module("fc1", torch::nn::Linear(12, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 3));
    extra = register_module("extra", torch::nn::Linear(12, 3));
  }
  /// `use_extra = false` skips a parameter branch, as models with optional parts do.
  torch::Tensor forward(const torch::Tensor& x, bool use_extra = true) {
    auto h = std::get<0>(lstm->forward(x)).select(1, -1);
    auto out = fc2->forward(torch::tanh(fc1->forward(h)));
    return use_extra ? out + extra->forward(h) : out;
  }
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, extra{nullptr};
};

struct Data {
  torch::Tensor x, y;
};

Data global_data() {
  torch::manual_seed(123);
  return {torch::randn({kSteps * kWorld * kBatchPerRank, 4, 5}), torch::randint(0, 3, {kSteps * kWorld * kBatchPerRank})};
}

std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

/// Trains for kSteps. With `comm`, this rank's rows of each global batch
/// (positions rank, rank + N, ...), under DDP; without, the whole global batch.
/// With `skip`, odd steps leave the `extra` branch out (find_unused_parameters).
/// With `sgd`, plain SGD instead of Adam: Adam divides by the root of the
/// squared gradient, so a near-zero gradient component summed in another order
/// (micro-batches against one batch) can move its weight by up to lr per step.
/// With `counters`, DDP's counters at the end are copied there.
std::vector<torch::Tensor> train(dist::Communicator* comm, double bucket_cap_mb, int accumulate = 1,
                                 bool skip = false, torch::Device device = torch::kCPU, bool sgd = false,
                                 DdpCounters* counters = nullptr) {
  torch::manual_seed(comm ? 1000 + comm->rank() : 7);  // ranks start different: DDP must broadcast rank 0's
  Net net;
  if (comm == nullptr || comm->rank() == 0) {
    torch::manual_seed(7);
    Net reference_init;
    torch::NoGradGuard g;
    auto src = reference_init.parameters();
    auto dst = net.parameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  net.to(device);
  std::unique_ptr<DistributedDataParallel> ddp;
  if (comm) {
    ddp = std::make_unique<DistributedDataParallel>(net, *comm, test::bucket_caps(bucket_cap_mb, skip));
  }
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (sgd) {
    opt = std::make_unique<torch::optim::SGD>(net.parameters(), torch::optim::SGDOptions(0.1));
  } else {
    opt = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(0.01));
  }
  Data d = global_data();
  const int global = kWorld * kBatchPerRank;
  for (int step = 0; step < kSteps; ++step) {
    auto rows = torch::arange(step * global, (step + 1) * global);
    if (comm) rows = rows.slice(0, comm->rank(), global, comm->size());
    if (ddp) {
      ddp->zero_grad();
    } else {
      // Zeros, not undefined gradients (LibTorch 2.x's zero_grad default): DDP's
      // gradients are bucket views, always defined, so the optimizer sees a zero
      // gradient for a skipped parameter (and Adam's momentum still moves it).
      for (auto& p : net.parameters()) {
        if (p.grad().defined()) p.mutable_grad().zero_();
      }
    }
    // `accumulate` micro-batches; all but the last under no_sync().
    const int64_t micro = rows.size(0) / accumulate;
    for (int k = 0; k < accumulate; ++k) {
      auto part = rows.slice(0, k * micro, (k + 1) * micro);
      auto x = d.x.index_select(0, part).to(device), y = d.y.index_select(0, part).to(device);
      std::optional<DistributedDataParallel::NoSync> no_sync;
      if (ddp && k + 1 < accumulate) no_sync.emplace(ddp->reducer());
      if (ddp) ddp->before_forward();
      auto loss = torch::nn::functional::cross_entropy(net.forward(x, !(skip && step % 2 == 1)), y) / accumulate;
      if (ddp) ddp->prepare_for_backward({loss});
      loss.backward();
    }
    opt->step();
  }
  if (ddp && counters) *counters = ddp->counters();
  net.to(torch::kCPU);
  return snapshot(net);
}

/// The same math on both sides of a CUDA comparison: no TF32 in cuDNN (the
/// LSTM) or cuBLAS, deterministic cuDNN algorithms, no autotuning.
void deterministic_cuda() {
  auto& ctx = at::globalContext();
  ctx.setAllowTF32CuDNN(false);
  ctx.setAllowTF32CuBLAS(false);
  ctx.setDeterministicCuDNN(true);
  ctx.setBenchmarkCuDNN(false);
}

TANDEM_TEST_WORKER(ddp_train) {
  auto world = dist::world_from_env();
  const char* backend = std::getenv("TEST_BACKEND");
  // One GPU per rank where there are enough (NCCL); else every rank on GPU 0, through Gloo.
  torch::Device device = torch::kCPU;
  if (std::getenv("TEST_CUDA") != nullptr) {
    const bool own = world.local_rank < static_cast<int>(torch::cuda::device_count());
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(own ? world.local_rank : 0));
    c10::impl::VirtualGuardImpl(c10::kCUDA).setDevice(device);
    deterministic_cuda();
  }
  dist::DistOptions options;
  options.backend = backend ? backend : "gloo";
  options.timeout = std::chrono::seconds(60);
  options.cuda_device = device.is_cuda() ? device.index() : -1;
  auto comm = dist::connect(world, options);
  const double cap = std::stod(std::getenv("TEST_BUCKET_CAP_MB"));
  const char* accumulate = std::getenv("TEST_ACCUMULATE");
  DdpCounters counters;
  auto params = train(comm.get(), cap, accumulate ? std::stoi(accumulate) : 1, std::getenv("TEST_SKIP") != nullptr, device,
                      std::getenv("TEST_SGD") != nullptr, &counters);
  const std::string out = std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank);
  torch::save(params, out + ".pt");
  torch::save(torch::tensor({static_cast<double>(counters.steps), counters.comm_s, counters.exposed_comm_s}),
              out + "-counters.pt");
  comm->barrier()->wait();
  return 0;
}

/// Runs `ddp_train` on kWorld ranks with `env` and checks every rank's final
/// parameters against `reference` (float32: within 1e-5 relative, plus a tiny
/// absolute floor for values near 0) and bit for bit against rank 0's.
/// With `counters`, each rank's DDP counters (steps, comm_s, exposed_comm_s) are appended there.
void expect_ranks_match(std::map<std::string, std::string> env, const std::vector<torch::Tensor>& reference,
                        double rtol = 1e-5, double atol = 1e-7, std::vector<torch::Tensor>* counters = nullptr) {
  const std::string out = test::make_temp_dir("ddp");
  env["TEST_OUT_DIR"] = out;
  auto result = test::run_workers_of_this_binary("ddp_train", kWorld, env);
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  std::vector<torch::Tensor> rank0;
  for (int rank = 0; rank < kWorld; ++rank) {
    std::vector<torch::Tensor> params;
    torch::load(params, out + "/rank" + std::to_string(rank) + ".pt");
    ASSERT_EQ(params.size(), reference.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(torch::allclose(params[i], reference[i], rtol, atol))
          << "rank " << rank << " parameter " << i << " max abs diff "
          << (params[i] - reference[i]).abs().max().item<double>();
      // The DDP invariant itself, on any device: every rank holds the same bits.
      if (rank > 0) EXPECT_TRUE(torch::equal(params[i], rank0[i])) << "rank " << rank << " parameter " << i;
    }
    if (rank == 0) rank0 = params;
    if (counters) {
      counters->emplace_back();
      torch::load(counters->back(), out + "/rank" + std::to_string(rank) + "-counters.pt");
    }
  }
  std::filesystem::remove_all(out);
}

class DdpEquivalence : public ::testing::TestWithParam<double> {};

TEST_P(DdpEquivalence, TwoRanksMatchOneProcessWithTheGlobalBatch) {
  auto reference = train(nullptr, 0);
  expect_ranks_match({{"TEST_BUCKET_CAP_MB", std::to_string(GetParam())}}, reference);
  // The reference itself moved: the comparison is not trivially between initial weights.
  torch::manual_seed(7);
  Net init;
  EXPECT_FALSE(torch::allclose(init.parameters()[0], reference[0], 1e-3, 1e-3));
}

// 25 MiB: one bucket; 0.004 MiB: a few buckets; 1e-9: every parameter alone.
INSTANTIATE_TEST_SUITE_P(BucketCaps, DdpEquivalence, ::testing::Values(25.0, 0.004, 1e-9));

// SGD: the micro-batches sum the gradient in another order than the one
// global batch, and Adam would amplify that rounding (seen: 2.8e-6 on a bias
// after 20 steps on one CPU model, within 1e-5 on another).
TEST(DdpNoSync, AccumulatedMicroBatchesWithOneAllreduceMatchTheGlobalBatch) {
  expect_ranks_match({{"TEST_BUCKET_CAP_MB", "0.004"}, {"TEST_ACCUMULATE", "4"}, {"TEST_SGD", "1"}},
                     train(nullptr, 0, 1, false, torch::kCPU, /*sgd=*/true));
}

TEST(DdpUnusedParameters, SkippedParametersStillFinishEveryStepAndMatchTheReference) {
  expect_ranks_match({{"TEST_BUCKET_CAP_MB", "1e-9"}, {"TEST_SKIP", "1"}}, train(nullptr, 0, 1, /*skip=*/true));
}

// On CUDA: buckets live on the device; NCCL where there is a GPU per rank,
// otherwise both ranks on GPU 0 through Gloo with CUDA tensors (NCCL refuses
// two ranks on one GPU). The reference trains on the same GPU with the same
// math (TF32 off, deterministic cuDNN) and SGD, so the comparison is tight;
// the ranks must agree bit for bit. Skipped without a GPU.
TEST(DdpEquivalence, TwoRanksOnGpusMatchOneProcessOnTheSameGpu_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const bool nccl = torch::cuda::device_count() >= kWorld && dist::available_backends().size() > 1;
  deterministic_cuda();
  const auto reference = train(nullptr, 0, 1, false, torch::Device(torch::kCUDA, 0), /*sgd=*/true);
  std::vector<torch::Tensor> counters;
  expect_ranks_match({{"TEST_BUCKET_CAP_MB", "0.004"}, {"TEST_CUDA", "1"}, {"TEST_SGD", "1"},
                      {"TEST_BACKEND", nccl ? "nccl" : "gloo"}},
                     reference, 1e-5, 1e-7, &counters);
  // Communication is timed on the GPU (NCCL: CUDA events) or the host (Gloo):
  // either way it took some time, and what backward's end waited for is part
  // of the span from the first launch to the last collective's end.
  for (const auto& c : counters) {
    EXPECT_EQ(c[0].item<double>(), kSteps);
    EXPECT_GT(c[1].item<double>(), 0.0) << (nccl ? "nccl" : "gloo");
    EXPECT_LE(c[2].item<double>(), c[1].item<double>() + kSteps * 1e-3) << (nccl ? "nccl" : "gloo");
  }
}

TEST(DdpNoSync, CommunicatesNothingInsideTheScope) {
  auto comm = dist::make_local_communicator();
  Net net;
  DistributedDataParallel ddp(net, *comm);
  ddp.zero_grad();
  {
    auto guard = ddp.no_sync();
    net.forward(torch::randn({3, 4, 5})).sum().backward();
    net.forward(torch::randn({3, 4, 5})).sum().backward();
  }
  EXPECT_EQ(ddp.counters().steps, 0) << "no reduction ran under no_sync";
  net.forward(torch::randn({3, 4, 5})).sum().backward();
  EXPECT_EQ(ddp.counters().steps, 1);
}

TEST(Ddp, AParameterWithoutGradientIsAnErrorNamingIt) {
  auto comm = dist::make_local_communicator();
  Net net;
  DistributedDataParallel ddp(net, *comm);
  ddp.zero_grad();
  // fc1 and fc2 are skipped: their gradients never arrive.
  auto h = std::get<0>(net.lstm->forward(torch::randn({2, 4, 5}))).sum();
  try {
    h.backward();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("got no gradient"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fc1.weight"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("lstm.weight_ih_l0"), std::string::npos) << msg;
  }
}

TEST(Ddp, ASecondGradientForAParameterAlreadyReadyIsAnErrorNamingIt) {
  auto comm = dist::make_local_communicator();
  Net net;
  DdpOptions options;
  options.find_unused_parameters = true;
  DistributedDataParallel ddp(net, *comm, options);
  ddp.zero_grad();
  // DDP is told the step's output reaches only the LSTM, so fc1 and fc2 are
  // marked ready (unused) when backward starts; then a gradient arrives for them.
  auto lstm_only = std::get<0>(net.lstm->forward(torch::randn({2, 4, 5}))).sum();
  ddp.prepare_for_backward({lstm_only});
  try {
    net.forward(torch::randn({2, 4, 5})).sum().backward();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("received a second gradient in one backward pass"), std::string::npos) << msg;
    EXPECT_NE(msg.find("parameter extra.bias"), std::string::npos) << msg;  // the first to arrive
  }
}

TEST(Ddp, GradientsAreViewsIntoBucketsAndSurviveZeroGrad) {
  auto comm = dist::make_local_communicator();
  Net net;
  DistributedDataParallel ddp(net, *comm, test::bucket_caps(1e-9));
  EXPECT_EQ(ddp.counters().buckets, static_cast<int64_t>(net.parameters().size()));
  for (int step = 0; step < 2; ++step) {
    ddp.zero_grad();
    net.forward(torch::randn({3, 4, 5})).sum().backward();
  }
  EXPECT_EQ(ddp.counters().steps, 2);
  // A grad dropped by the user (set to none) is restored as a bucket view.
  net.parameters()[0].mutable_grad() = torch::Tensor();
  ddp.zero_grad();
  EXPECT_TRUE(net.parameters()[0].grad().defined());
  EXPECT_EQ(net.parameters()[0].grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace tandem::ddp
