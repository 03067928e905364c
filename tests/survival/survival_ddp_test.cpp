// Survival models across 2 real ranks (through the launcher, over Gloo):
// deepsurv's risk sets are each rank's own batch, and whole-set validation
// metrics (concordance, IBS) reduced across ranks equal one process's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/survival/synthetic.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/dist/communicator.h"
#include "framework/train/trainer.h"
#include "models/survival/deepsurv.h"
#include "tests/support/multiprocess.h"

namespace tandem::models {
namespace {

constexpr int kWorld = 2;
constexpr int64_t kBatch = 32;  // per rank
constexpr int kSteps = 5;

YAML::Node model_section(const std::string& type, const std::string& extra) {
  auto schema = model_registry().get(type).schema();
  YAML::Node n = YAML::Load("{type: " + type + ", " + extra + "}");
  for (const auto& key : schema.keys()) {
    if (!n[key.name()] && key.default_value()) n[key.name()] = *key.default_value();
  }
  return n;
}

DataSplits synthetic() { return data::make_synthetic_survival({kSteps * kWorld * kBatch, 300, 5, false, 1.5, 10, 15, 5}); }

std::shared_ptr<Model> fresh_deepsurv(const Dataset& train) {
  torch::manual_seed(42);
  // No batch norm: its batch statistics would differ per rank for a reason
  // that has nothing to do with risk sets.
  auto m = create_model(model_section("deepsurv", "hidden: [8], dropout: 0.0, batch_norm: false"));
  m->prepare(train);
  return m;
}

enum class Reference { kPerRankRiskSets, kGlobalRiskSet };

/// Single-process SGD over the same global batches. kPerRankRiskSets: the loss
/// is the mean of the two half-batch Cox losses (what DDP computes);
/// kGlobalRiskSet: one Cox loss over the whole global batch.
std::vector<torch::Tensor> reference(Reference kind) {
  auto data = synthetic();
  auto m = fresh_deepsurv(*data.train);
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.1));
  for (int step = 0; step < kSteps; ++step) {
    opt.zero_grad();
    torch::Tensor loss = torch::zeros({});
    if (kind == Reference::kGlobalRiskSet) {
      std::vector<int64_t> idx;
      for (int64_t i = 0; i < kWorld * kBatch; ++i) idx.push_back(step * kWorld * kBatch + i);
      auto b = data.train->get(idx);
      loss = m->loss(b, m->forward(b));
    } else {
      for (int r = 0; r < kWorld; ++r) {
        std::vector<int64_t> idx;
        for (int64_t i = 0; i < kBatch; ++i) idx.push_back(step * kWorld * kBatch + r * kBatch + i);
        auto b = data.train->get(idx);
        loss = loss + m->loss(b, m->forward(b)) / kWorld;
      }
    }
    loss.backward();
    opt.step();
  }
  std::vector<torch::Tensor> out;
  for (auto& p : m->parameters()) out.push_back(p.detach().clone());
  return out;
}

TANDEM_TEST_WORKER(deepsurv_ddp) {
  auto world = dist::world_from_env();
  dist::DistOptions gloo;
  gloo.timeout = std::chrono::seconds(60);  // the default backend, gloo
  auto comm = dist::connect(world, gloo);
  auto data = synthetic();
  auto m = fresh_deepsurv(*data.train);
  ddp::DistributedDataParallel ddp(*m, *comm);
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.1));
  for (int step = 0; step < kSteps; ++step) {
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < kBatch; ++i) idx.push_back(step * kWorld * kBatch + world.rank * kBatch + i);
    auto b = data.train->get(idx);
    ddp.zero_grad();
    ddp.before_forward();
    m->loss(b, m->forward(b)).backward();
    opt.step();
  }
  std::vector<torch::Tensor> params;
  for (auto& p : m->parameters()) params.push_back(p.detach().clone());
  torch::save(params, std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank) + ".pt");
  comm->barrier()->wait();
  return 0;
}

TEST(DeepSurvDdp, EachRankUsesItsOwnBatchAsRiskSets) {
  const std::string out = test::make_temp_dir("deepsurv_ddp");
  auto result = test::run_workers_of_this_binary("deepsurv_ddp", kWorld, {{"TEST_OUT_DIR", out}});
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  const auto per_rank = reference(Reference::kPerRankRiskSets);
  const auto global = reference(Reference::kGlobalRiskSet);
  double global_gap = 0;
  for (int rank = 0; rank < kWorld; ++rank) {
    std::vector<torch::Tensor> params;
    torch::load(params, out + "/rank" + std::to_string(rank) + ".pt");
    ASSERT_EQ(params.size(), per_rank.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(torch::allclose(params[i], per_rank[i], 1e-5, 1e-6))
          << "rank " << rank << " parameter " << i << " max abs diff "
          << (params[i] - per_rank[i]).abs().max().item<double>();
      global_gap = std::max(global_gap, (params[i] - global[i]).abs().max().item<double>());
    }
  }
  // One partial likelihood over the global batch is a different objective.
  EXPECT_GT(global_gap, 1e-4);
  std::filesystem::remove_all(out);
}

/// A logistic_hazard model, identical on every rank, and its validation metrics.
MetricValues evaluate_logistic_hazard(dist::Communicator& comm) {
  auto data = synthetic();
  torch::manual_seed(3);
  auto m = create_model(model_section("logistic_hazard", "hidden: [16], intervals: 10"));
  m->prepare(*data.train);
  // Validation batches of 64 on each rank: several batches, uneven shards (300 / 2 / 64).
  return evaluate_model(*m, *data.val, 64, comm);
}

TANDEM_TEST_WORKER(survival_eval) {
  auto world = dist::world_from_env();
  dist::DistOptions gloo;
  gloo.timeout = std::chrono::seconds(60);  // the default backend, gloo
  auto comm = dist::connect(world, gloo);
  const auto metrics = evaluate_logistic_hazard(*comm);
  std::ofstream(std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank) + ".txt")
      << std::setprecision(17) << metrics.at("c_index") << " " << metrics.at("td_concordance") << " "
      << metrics.at("ibs") << " " << metrics.at("inbll") << " " << metrics.at("loss") << "\n";
  comm->barrier()->wait();
  return 0;
}

TEST(SurvivalMetricsDdp, TwoRanksGiveTheSingleProcessWholeSetMetrics) {
  const std::string out = test::make_temp_dir("survival_eval");
  auto result = test::run_workers_of_this_binary("survival_eval", kWorld, {{"TEST_OUT_DIR", out}});
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  auto local = dist::make_local_communicator();
  const auto single = evaluate_logistic_hazard(*local);
  for (int rank = 0; rank < kWorld; ++rank) {
    std::ifstream in(out + "/rank" + std::to_string(rank) + ".txt");
    double c, td, ibs, inbll, loss;
    ASSERT_TRUE(in >> c >> td >> ibs >> inbll >> loss) << "rank " << rank;
    EXPECT_DOUBLE_EQ(c, single.at("c_index")) << "rank " << rank;
    EXPECT_DOUBLE_EQ(td, single.at("td_concordance")) << "rank " << rank;
    // The float32 forward passes see different batches, so the curves agree to ~1e-7
    // and the integrated scores to ~1e-11; the rankings are exactly the same.
    EXPECT_NEAR(ibs, single.at("ibs"), 1e-9) << "rank " << rank;
    EXPECT_NEAR(inbll, single.at("inbll"), 1e-9) << "rank " << rank;
    EXPECT_NEAR(loss, single.at("loss"), 1e-6) << "rank " << rank;
  }
  EXPECT_GT(single.at("c_index"), 0.0);
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace tandem::models
