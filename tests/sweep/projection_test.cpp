// The projection model against hand-worked numbers, and against published
// multi-GPU results: every row of docs/sweep.md's validation table within
// 5 points of what its authors measured.
#include <gtest/gtest.h>

#include <cmath>

#include "sweep/projection.h"
#include "sweep/validation.h"

namespace tandem::sweep {
namespace {

/// 10 ms of compute, half of it backward, 1 MB of gradients in two 0.5 MB
/// buckets, no stragglers.
StepModel two_bucket_step() {
  StepModel step;
  step.compute_s = 0.010;
  step.backward_fraction = 0.5;
  step.bytes = 1e6;
  step.bucket_bytes = 0.5e6;
  step.straggler = 0.0;
  step.batch_per_worker = 64;
  return step;
}

TEST(Projection, RingAllreduceMatchesHandWorkedNumbers) {
  const Network net{"n", 1e-4, 1e-9};  // 100 us, 1 GB/s
  // 4 workers, 1 MB in 2 messages: 2*3*1e-4*2 + 2*3/4*1e6*1e-9 = 1.2 ms + 1.5 ms.
  EXPECT_NEAR(ring_allreduce_s(net, 1e6, 4, 2), 2.7e-3, 1e-12);
  EXPECT_DOUBLE_EQ(ring_allreduce_s(net, 1e6, 1, 2), 0.0);
}

TEST(Projection, BucketsOverlapBackwardAndTheLastOneIsExposed) {
  const Network net{"n", 1e-4, 1e-9};
  // Each bucket: 2*3*1e-4 + 2*3/4*0.5e6*1e-9 = 0.6 + 0.75 = 1.35 ms. The first
  // is ready at 2.5 ms of the 5 ms backward and ends at 3.85 ms; the second is
  // ready at 5 ms and ends at 6.35 ms: 1.35 ms after backward.
  auto p = project(two_bucket_step(), net, 4);
  EXPECT_NEAR(p.comm_s, 2.7e-3, 1e-12);
  EXPECT_NEAR(p.exposed_s, 1.35e-3, 1e-12);
  EXPECT_NEAR(p.step_s, 0.01135, 1e-12);
  EXPECT_NEAR(p.samples_per_s, 4 * 64 / 0.01135, 1e-6);
  EXPECT_NEAR(p.efficiency, 0.010 / 0.01135, 1e-12);
  // One worker: no communication, no straggler, the compute alone.
  p = project(two_bucket_step(), net, 1);
  EXPECT_DOUBLE_EQ(p.step_s, 0.010);
  EXPECT_DOUBLE_EQ(p.efficiency, 1.0);
}

TEST(Projection, TheSlowestWorkerAndTheWrapperCostEveryStep) {
  EXPECT_DOUBLE_EQ(slowest_of(1), 0.0);
  EXPECT_DOUBLE_EQ(slowest_of(2), 0.5);
  EXPECT_NEAR(slowest_of(4), 0.5 + 1.0 / 3 + 0.25, 1e-15);
  auto step = two_bucket_step();
  step.straggler = 0.1;
  step.dp_overhead = 0.02;
  // 10 ms x 1.02 x (1 + 0.1 x 13/12) + 1.35 ms exposed.
  const auto p = project(step, Network{"n", 1e-4, 1e-9}, 4);
  EXPECT_NEAR(p.step_s, 0.010 * 1.02 * (1 + 0.1 * 13.0 / 12) + 1.35e-3, 1e-12);
}

TEST(Projection, HierarchicalFlatAndTreeAllreduce) {
  Cluster c{"c", Network{"nvlink", 1e-6, 1e-11}, Network{"ib", 1e-4, 1e-9}, 4, AllreduceAlgorithm::kHierarchical};
  // 16 workers in 4 nodes. In the node: 2*3*1e-6 + 2*3/4*1e6*1e-11 = 21 us.
  // Across: min(2*3, 2*log2 4) = 4 latency steps + 2*3/4*1e6*1e-9: 0.4 + 1.5 ms.
  EXPECT_NEAR(allreduce_s(c, 1e6, 16), 21e-6 + 1.9e-3, 1e-12);
  c.algorithm = AllreduceAlgorithm::kHierarchicalRing;
  EXPECT_NEAR(allreduce_s(c, 1e6, 16), 21e-6 + 2.1e-3, 1e-12);
  // A flat ring: 30 steps at the slower link's latency, 2*15/16 MB at its bandwidth.
  c.algorithm = AllreduceAlgorithm::kFlatRing;
  EXPECT_NEAR(allreduce_s(c, 1e6, 16), 30e-4 + 1.875e-3, 1e-12);
  // Within one node only the node's links count, whatever the algorithm.
  EXPECT_NEAR(allreduce_s(c, 1e6, 4), 21e-6, 1e-12);
}

TEST(Projection, FusionSendsWhatIsReadyAsSoonAsTheLinkIsFree) {
  auto step = two_bucket_step();
  step.bucketing = Bucketing::kDynamicFusion;
  step.bucket_bytes = 1e6;
  step.head_fraction = 1.0;  // every gradient ready as backward starts: one allreduce at t = 0
  const Network net{"n", 1e-4, 1e-9};
  // 2*3*1e-4 + 2*3/4*1e6*1e-9 = 2.1 ms, inside the 5 ms of backward.
  auto p = project(step, net, 4);
  EXPECT_NEAR(p.comm_s, 2.1e-3, 1e-12);
  EXPECT_DOUBLE_EQ(p.exposed_s, 0.0);
  // 8 MB: 0.6 + 12 ms, 7.6 ms of it after backward.
  step.bytes = 8e6;
  step.bucket_bytes = 8e6;
  p = project(step, net, 4);
  EXPECT_NEAR(p.exposed_s, 7.6e-3, 1e-12);
}

TEST(Projection, NoWorkerCountScalesPerfectly) {
  // The shipped model's 1.93 MB on 8 GPUs per node, 400 Gb/s per GPU: even where
  // every byte hides behind backward, the slowest worker costs something.
  StepModel step;
  step.compute_s = 0.0068;
  step.bytes = 1.93e6;
  const Cluster c{"h100", Network{"nvlink", 3e-6, 1 / 360e9}, Network{"ib", 5e-6, 1 / 380e9}, 8,
                  AllreduceAlgorithm::kHierarchical};
  double last = 1.0;
  for (int n = 2; n <= 1024; n *= 2) {
    const double e = project(step, c, n).efficiency;
    EXPECT_LT(e, 1.0) << n << " workers";
    EXPECT_LE(e, last) << n << " workers";
    last = e;
  }
}

TEST(Validation, EveryPublishedRowIsWithinFivePoints) {
  const auto rows = published_rows();
  ASSERT_GE(rows.size(), 12u);
  for (const auto& r : rows) {
    const double projected = relative_efficiency(r.step, r.cluster, r.workers, r.base_workers);
    EXPECT_NEAR(projected, r.published, 0.05) << r.name << " (" << r.source << ")";
  }
}

TEST(Validation, TheTableShowsPublishedAndProjected) {
  const auto table = validation_table(published_rows());
  EXPECT_NE(table.find("| PyTorch DDP, ResNet-50, 16 V100 | DGX-1 V100, 4x100 Gb/s IB | 93.0 % |"), std::string::npos)
      << table;
  EXPECT_NE(table.find("| Horovod, VGG-16, 512 GPUs |"), std::string::npos) << table;
}

}  // namespace
}  // namespace tandem::sweep
