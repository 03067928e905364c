// DDP features beyond the basic contract: bucket rebuild in arrival order,
// communication hooks and their error bound, counters, gradients of unusual
// shape (sparse, non-contiguous, frozen). Real processes over Gloo.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/ddp/options_schema.h"
#include "framework/ddp/options.h"
#include "tests/support/ddp_options.h"
#include "tests/support/recipe_problems.h"
#include "tests/support/multiprocess.h"

namespace tandem::ddp {
namespace {

constexpr int kWorldSize = 2;

/// Registration order a, b, c, d; forward uses them as d(c(b(a(x)))) + skip
/// through c, so backward's arrival order is not reverse registration order.
struct Chain : torch::nn::Module {
  Chain() {
    a = register_module("a", torch::nn::Linear(6, 8));
    b = register_module("b", torch::nn::Linear(8, 8));
    c = register_module("c", torch::nn::Linear(6, 8));
    d = register_module("d", torch::nn::Linear(8, 2));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return d->forward(torch::tanh(b->forward(torch::tanh(a->forward(x))) + c->forward(x)));
  }
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr}, d{nullptr};
};

/// The order in which backward accumulates `module`'s gradients, seen through
/// tensor hooks (independent of the reducer's own hooks).
std::vector<std::size_t> observed_arrival(torch::nn::Module& module, const std::function<torch::Tensor()>& loss) {
  auto params = module.parameters();
  auto order = std::make_shared<std::vector<std::size_t>>();
  std::vector<std::pair<std::size_t, unsigned>> handles;
  for (std::size_t i = 0; i < params.size(); ++i) {
    handles.emplace_back(i, params[i].register_hook([order, i](torch::Tensor g) {
      order->push_back(i);
      return g;
    }));
  }
  loss().backward();
  for (auto& [i, h] : handles) params[i].remove_hook(h);
  return *order;
}

std::string plan_to_string(const std::vector<std::vector<std::size_t>>& plan) {
  std::string s;
  for (const auto& bucket : plan) {
    s += "[";
    for (std::size_t i : bucket) s += std::to_string(i) + " ";
    s += "]";
  }
  return s;
}

TEST(DdpRebuild, BucketsFollowTheArrivalOrderAfterTheFirstStep) {
  auto comm = dist::make_local_communicator();
  torch::manual_seed(1);
  Chain net;
  auto x = torch::randn({4, 6});
  const auto arrival = observed_arrival(net, [&] { return net.forward(x).sum(); });
  ASSERT_EQ(arrival.size(), net.parameters().size());
  for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();

  DistributedDataParallel ddp(net, *comm, test::bucket_caps(1e-9));
  const auto initial = ddp.reducer().buckets();
  ddp.zero_grad();
  ddp.before_forward();
  net.forward(x).sum().backward();
  ddp.before_forward();  // the rebuild happens here, before the second forward
  std::vector<std::vector<std::size_t>> expected;
  for (std::size_t i : arrival) expected.push_back({i});
  EXPECT_EQ(plan_to_string(ddp.reducer().buckets()), plan_to_string(expected));
  EXPECT_NE(plan_to_string(initial), plan_to_string(expected)) << "the test model must arrive out of reverse order";
  EXPECT_EQ(ddp.counters().rebuilds, 1);
  // Once only.
  net.forward(x).sum().backward();
  ddp.before_forward();
  EXPECT_EQ(ddp.counters().rebuilds, 1);
}

TEST(DdpRebuild, GradientsAccumulatedBeforeTheRebuildAreKept) {
  auto comm = dist::make_local_communicator();
  torch::manual_seed(2);
  Chain net;
  auto x = torch::randn({4, 6});
  DistributedDataParallel ddp(net, *comm, test::bucket_caps(1e-9));
  ddp.zero_grad();
  net.forward(x).sum().backward();  // first synchronised step: records the order
  ddp.zero_grad();
  {
    auto guard = ddp.no_sync();
    net.forward(x).sum().backward();  // accumulated, not reduced
  }
  std::vector<torch::Tensor> before;
  for (auto& p : net.parameters()) before.push_back(p.grad().clone());
  ddp.before_forward();
  ASSERT_EQ(ddp.counters().rebuilds, 1);
  auto params = net.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i].grad(), before[i])) << "parameter " << i;
  }
  // And gradients keep accumulating into the new buckets.
  net.forward(x).sum().backward();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(params[i].grad(), 2 * before[i], 1e-6, 1e-7)) << "parameter " << i;
  }
}

dist::DistOptions gloo_options() {
  dist::DistOptions o;
  o.backend = "gloo";
  o.timeout = std::chrono::seconds(60);
  return o;
}

TANDEM_TEST_WORKER(ddp_rebuild) {
  auto world = dist::world_from_env();
  auto comm = dist::connect(world, gloo_options());
  torch::manual_seed(5);
  Chain net;
  DistributedDataParallel ddp(net, *comm, test::bucket_caps(1e-9));
  auto x = torch::randn({4, 6}) + world.rank;
  for (int step = 0; step < 3; ++step) {
    ddp.zero_grad();
    ddp.before_forward();
    net.forward(x).sum().backward();
  }
  std::vector<int64_t> flat;
  for (const auto& bucket : ddp.reducer().buckets()) {
    for (std::size_t i : bucket) flat.push_back(static_cast<int64_t>(i));
    flat.push_back(-1);
  }
  flat.push_back(ddp.counters().rebuilds);
  torch::save(torch::tensor(flat), std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank) + ".pt");
  comm->barrier()->wait();
  return 0;
}

TEST(DdpRebuild, EveryRankRebuildsTheSameBuckets) {
  const std::string out = test::make_temp_dir("ddp-rebuild");
  auto result = test::run_workers_of_this_binary("ddp_rebuild", kWorldSize, {{"TEST_OUT_DIR", out}});
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  torch::Tensor r0, r1;
  torch::load(r0, out + "/rank0.pt");
  torch::load(r1, out + "/rank1.pt");
  EXPECT_TRUE(torch::equal(r0, r1)) << r0 << r1;
  EXPECT_EQ(r0[-1].item<int64_t>(), 1) << "one rebuild";
  std::filesystem::remove_all(out);
}

/// Gradients spanning several orders of magnitude, both signs, no subnormals in 16 bits.
torch::Tensor test_gradients(int rank, int64_t n) {
  torch::manual_seed(100 + rank);
  auto magnitude = torch::pow(10.0, torch::rand({n}) * 4 - 3);  // 1e-3 .. 10
  auto sign = torch::where(torch::rand({n}) < 0.5, -1.0, 1.0);
  return (magnitude * sign).to(torch::kFloat);
}

constexpr int64_t kHookParams = 5000;

struct Single : torch::nn::Module {
  Single() {
    w = register_parameter("w", torch::zeros({kHookParams / 2}));
    v = register_parameter("v", torch::zeros({kHookParams - kHookParams / 2}));
  }
  torch::Tensor w, v;
};

TANDEM_TEST_WORKER(ddp_hook) {
  auto world = dist::world_from_env();
  auto comm = dist::connect(world, gloo_options());
  Single net;
  const DdpOptions options = test::bucket_caps(1e-9, false, std::getenv("TEST_HOOK"));
  DistributedDataParallel ddp(net, *comm, options);
  auto g = test_gradients(world.rank, kHookParams);
  for (int step = 0; step < 2; ++step) {  // the second step runs on rebuilt buckets
    ddp.zero_grad();
    ddp.before_forward();
    ((net.w * g.slice(0, 0, kHookParams / 2)).sum() + (net.v * g.slice(0, kHookParams / 2)).sum()).backward();
  }
  auto reduced = torch::cat({net.w.grad(), net.v.grad()});
  auto counters = torch::tensor({static_cast<double>(ddp.counters().bytes_per_step), ddp.counters().comm_s,
                                 ddp.counters().exposed_comm_s});
  torch::save(std::vector<torch::Tensor>{reduced, counters},
              std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank) + ".pt");
  comm->barrier()->wait();
  return 0;
}

/// Runs the hook worker and checks the reduced gradient against the exact
/// mean: |got - mean| <= bound_units * u * (|g0| + |g1|) / 2 elementwise.
void check_hook(const std::string& hook, double unit_roundoff, double bound_units, int64_t bytes_per_element) {
  const std::string out = test::make_temp_dir("ddp-hook");
  auto result = test::run_workers_of_this_binary("ddp_hook", kWorldSize, {{"TEST_OUT_DIR", out}, {"TEST_HOOK", hook}});
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  std::vector<torch::Tensor> r0, r1;
  torch::load(r0, out + "/rank0.pt");
  torch::load(r1, out + "/rank1.pt");
  std::filesystem::remove_all(out);

  EXPECT_TRUE(torch::equal(r0[0], r1[0])) << "ranks must agree bit for bit";
  auto g0 = test_gradients(0, kHookParams).to(torch::kDouble), g1 = test_gradients(1, kHookParams).to(torch::kDouble);
  auto exact = (g0 + g1) / 2;
  auto scale = (g0.abs() + g1.abs()) / 2;
  auto error = (r0[0].to(torch::kDouble) - exact).abs();
  auto excess = error - bound_units * unit_roundoff * scale;
  EXPECT_LE(excess.max().item<double>(), 1e-12) << hook << ": worst error / scale "
                                               << (error / scale).max().item<double>();
  if (bytes_per_element < 4) {
    // The compression really happened: float32 alone would be far more exact.
    EXPECT_GT((error / scale).max().item<double>(), unit_roundoff / 8) << hook << " did not round to 16 bits";
  }
  EXPECT_EQ(r0[1][0].item<double>(), static_cast<double>(kHookParams * bytes_per_element));
  EXPECT_GT(r0[1][1].item<double>(), 0.0) << "communication time";
}

// Unit roundoff: 2^-24 (float32), 2^-11 (float16), 2^-8 (bfloat16). Each rank's
// pre-divided gradient is rounded once; fp16 is also rounded after Gloo's
// 16-bit sum; bf16 is gathered and summed in float32.
TEST(DdpCommHook, AllreduceIsExactToFloat32) { check_hook("allreduce", std::ldexp(1.0, -24), 2.01, 4); }
TEST(DdpCommHook, Fp16StaysWithinItsErrorBound) { check_hook("fp16", std::ldexp(1.0, -11), 2.01, 2); }
TEST(DdpCommHook, Bf16StaysWithinItsErrorBound) { check_hook("bf16", std::ldexp(1.0, -8), 1.01, 2); }

/// A user's hook, registered as the built-ins are: reduces a float64 copy,
/// so the mean is rounded to float32 once, and sends 8 bytes per element.
class Fp64Hook : public CommHook {
 public:
  std::string name() const override { return "test_fp64"; }
  std::shared_ptr<dist::Work> launch(GradBucket& bucket, dist::Communicator& comm) override {
    if (bucket.state.empty()) bucket.state.push_back(torch::empty_like(bucket.flat, torch::kDouble));
    bucket.state[0].copy_(bucket.flat);
    return comm.allreduce(bucket.state[0]);
  }
  void finish(GradBucket& bucket, dist::Communicator& comm) override {
    bucket.flat.copy_(bucket.state[0] / comm.size());
  }
  int64_t payload_bytes(const GradBucket& bucket) const override { return bucket.flat.numel() * 8; }
};

TANDEM_REGISTER_COMM_HOOK("test_fp64", [] { return std::make_unique<Fp64Hook>(); });

// DDP takes a registered hook by its name, as a recipe's ddp.comm_hook names it.
TEST(DdpCommHook, ARegisteredHookIsUsedByName) { check_hook("test_fp64", std::ldexp(1.0, -24), 1.01, 8); }

TEST(DdpCommHook, UnknownNameIsBadInputWithTheChoices) {
  try {
    make_comm_hook("fp61");
    FAIL() << "fp61 is not registered";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("unknown communication hook 'fp61' (did you mean 'fp16'?); registered: "
                                         "allreduce, bf16, fp16, test_fp64"),
              std::string::npos)
        << e.what();
  }
}

TEST(DdpCommHook, TheRecipeCheckKnowsTheRegisteredHooks) {
  recipe::Section root;
  root.adopt("ddp", ddp_schema());
  EXPECT_TRUE(test::recipe_problems("ddp: {comm_hook: test_fp64}\n", root).empty());
  auto p = test::recipe_problems("ddp:\n  comm_hook: bf61\n", root);
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:2:14: ddp.comm_hook: expected one of allreduce, bf16, fp16, test_fp64, got 'bf61' (did you "
                  "mean 'bf16'?)");
}

// One declaration per option: an empty ddp: section reads as DdpOptions' own
// defaults, and a value reaches its field.
TEST(DdpOptionsSection, AnEmptySectionIsTheStructsDefaultsAndValuesReachTheirFields) {
  recipe::Section root;
  root.adopt("ddp", ddp_schema());
  const auto empty = recipe::load_text("ddp: {}\n", "r.yaml", {}, root);
  const DdpOptions read = ddp_options_from(empty.config["ddp"]), defaults;
  EXPECT_EQ(read.bucket_cap_mb, defaults.bucket_cap_mb);
  EXPECT_EQ(read.first_bucket_mb, defaults.first_bucket_mb);
  EXPECT_EQ(read.broadcast_buffers, defaults.broadcast_buffers);
  EXPECT_EQ(read.find_unused_parameters, defaults.find_unused_parameters);
  EXPECT_EQ(read.comm_hook, defaults.comm_hook);
  const auto set = recipe::load_text("ddp: {bucket_cap_mb: 2, find_unused_parameters: true, comm_hook: bf16}\n",
                                     "r.yaml", {}, root);
  const DdpOptions o = ddp_options_from(set.config["ddp"]);
  EXPECT_EQ(o.bucket_cap_mb, 2.0);
  EXPECT_TRUE(o.find_unused_parameters);
  EXPECT_EQ(o.comm_hook, "bf16");
  EXPECT_EQ(o.first_bucket_mb, defaults.first_bucket_mb);
}

TEST(DdpCommHookDeathTest, ADuplicateNameStopsTheProgram) {
  EXPECT_DEATH(comm_hook_registry().add("fp16", CommHookEntry{make_allreduce_hook}),
               "communication hook 'fp16' is registered twice");
}

/// Embedding with sparse gradients, a transposed (non-contiguous) weight and
/// a frozen parameter.
struct Odd : torch::nn::Module {
  Odd() {
    emb = register_module("emb", torch::nn::Embedding(torch::nn::EmbeddingOptions(20, 6).sparse(true)));
    wt = register_parameter("wt", torch::randn({3, 6}).t());  // [6, 3], strides (1, 6)
    frozen = register_parameter("frozen", torch::randn({3}), /*requires_grad=*/false);
  }
  torch::Tensor forward(const torch::Tensor& ids) { return emb->forward(ids).mean(1).matmul(wt) + frozen; }
  torch::nn::Embedding emb{nullptr};
  torch::Tensor wt, frozen;
};

constexpr int kOddSteps = 6, kOddBatch = 4;

std::vector<torch::Tensor> train_odd(dist::Communicator* comm) {
  torch::manual_seed(11);
  Odd net;
  EXPECT_FALSE(net.wt.is_contiguous());
  std::unique_ptr<DistributedDataParallel> ddp;
  if (comm) ddp = std::make_unique<DistributedDataParallel>(net, *comm, test::bucket_caps(1e-9));
  torch::optim::SGD opt(net.parameters(), torch::optim::SGDOptions(0.5));
  torch::manual_seed(12);
  auto ids = torch::randint(0, 20, {kOddSteps * kWorldSize * kOddBatch, 5});
  auto y = torch::randint(0, 3, {kOddSteps * kWorldSize * kOddBatch});
  for (int step = 0; step < kOddSteps; ++step) {
    auto rows = torch::arange(step * kWorldSize * kOddBatch, (step + 1) * kWorldSize * kOddBatch);
    if (comm) rows = rows.slice(0, comm->rank(), rows.size(0), comm->size());
    if (ddp) {
      ddp->zero_grad();
      ddp->before_forward();
    } else {
      for (auto& p : net.parameters()) {  // zeros, as DDP's bucket views (not 2.x's undefined grads)
        if (p.grad().defined()) p.mutable_grad().zero_();
      }
    }
    torch::nn::functional::cross_entropy(net.forward(ids.index_select(0, rows)), y.index_select(0, rows)).backward();
    opt.step();
  }
  return {net.emb->weight.detach().clone(), net.wt.detach().clone(), net.frozen.detach().clone()};
}

TANDEM_TEST_WORKER(ddp_odd) {
  auto world = dist::world_from_env();
  auto comm = dist::connect(world, gloo_options());
  torch::save(train_odd(comm.get()), std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank) + ".pt");
  comm->barrier()->wait();
  return 0;
}

TEST(DdpGradients, SparseNonContiguousAndFrozenParametersMatchTheReference) {
  auto reference = train_odd(nullptr);
  const std::string out = test::make_temp_dir("ddp-odd");
  auto result = test::run_workers_of_this_binary("ddp_odd", kWorldSize, {{"TEST_OUT_DIR", out}});
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  for (int rank = 0; rank < kWorldSize; ++rank) {
    std::vector<torch::Tensor> got;
    torch::load(got, out + "/rank" + std::to_string(rank) + ".pt");
    ASSERT_EQ(got.size(), reference.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(torch::allclose(got[i], reference[i], 1e-5, 1e-6))
          << "rank " << rank << " tensor " << i << " max diff " << (got[i] - reference[i]).abs().max().item<double>();
    }
  }
  torch::manual_seed(11);
  Odd init;
  EXPECT_FALSE(torch::allclose(init.emb->weight, reference[0])) << "training moved the embedding";
  EXPECT_TRUE(torch::equal(init.frozen, reference[2])) << "the frozen parameter stays put";
  std::filesystem::remove_all(out);
}

TEST(DdpGradients, ADenseNonContiguousGradientKeepsTheParametersLayout) {
  auto comm = dist::make_local_communicator();
  Odd net;
  DistributedDataParallel ddp(net, *comm);
  ddp.zero_grad();
  net.forward(torch::randint(0, 20, {2, 5})).sum().backward();
  EXPECT_EQ(net.wt.grad().strides(), net.wt.strides());
  EXPECT_GT(net.wt.grad().abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(net.emb->weight.grad().is_sparse() == false) << "the sparse gradient landed in the dense bucket";
}

TEST(Ddp, AParameterSwappedAfterWrappingIsAnErrorNamingIt) {
  auto comm = dist::make_local_communicator();
  Chain net;
  DistributedDataParallel ddp(net, *comm);
  ddp.before_forward();  // all attached: no error
  {
    torch::NoGradGuard no_grad;
    net.b->weight.set_(torch::zeros_like(net.b->weight));  // what Module::load does to a parameter
  }
  try {
    ddp.before_forward();
    FAIL() << "expected an error";
  } catch (const std::logic_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("b.weight"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("a.weight"), std::string::npos) << msg;
  }
}

TEST(DdpGradients, ASparseParameterIsRefusedByName) {
  struct SparseParam : torch::nn::Module {
    SparseParam() { register_parameter("table", torch::eye(3).to_sparse()); }
  } net;
  auto comm = dist::make_local_communicator();
  try {
    DistributedDataParallel ddp(net, *comm);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("table"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::ddp
