#include "framework/ddp/bucket_plan.h"

#include <gtest/gtest.h>

namespace tandem::ddp {
namespace {

constexpr int64_t kMiBFloats = 1024 * 1024 / 4;

std::vector<ParamInfo> floats(std::initializer_list<int64_t> numels) {
  std::vector<ParamInfo> out;
  for (auto n : numels) out.push_back({n, 4, "float/cpu"});
  return out;
}

using Plan = std::vector<std::vector<std::size_t>>;

TEST(BucketPlan, ReverseOrderWithSmallFirstBucket) {
  // 4 params of 0.5 MiB each; first bucket closes at 1 MiB, the rest at 25 MiB.
  auto plan = plan_buckets(floats({kMiBFloats / 2, kMiBFloats / 2, kMiBFloats / 2, kMiBFloats / 2}), {25.0, 1.0});
  EXPECT_EQ(plan, (Plan{{3, 2}, {1, 0}}));
}

TEST(BucketPlan, TinyCapGivesEveryParameterItsOwnBucket) {
  auto plan = plan_buckets(floats({10, 20, 30}), {1e-9, 1e-9});
  EXPECT_EQ(plan, (Plan{{2}, {1}, {0}}));
}

TEST(BucketPlan, LargeCapGivesOneBucket) {
  auto plan = plan_buckets(floats({10, 20, 30}), {25.0, 25.0});
  EXPECT_EQ(plan, (Plan{{2, 1, 0}}));
}

TEST(BucketPlan, ParameterLargerThanTheCapStandsAlone) {
  auto plan = plan_buckets(floats({10, 3 * kMiBFloats, 10}), {2.0, 2.0});
  EXPECT_EQ(plan, (Plan{{2, 1}, {0}}));
}

TEST(BucketPlan, DtypesNeverShareABucket) {
  std::vector<ParamInfo> params{{10, 4, "float/cpu"}, {10, 8, "double/cpu"}, {10, 4, "float/cpu"}};
  auto plan = plan_buckets(params, {25.0, 25.0});
  EXPECT_EQ(plan, (Plan{{2, 0}, {1}}));
}

TEST(BucketPlan, FollowsAGivenArrivalOrder) {
  // Gradients arrived as 1, 3, 0, 2; one-float caps put each in its own bucket.
  auto plan = plan_buckets(floats({10, 10, 10, 10}), {1e-9, 1e-9}, {1, 3, 0, 2});
  EXPECT_EQ(plan, (Plan{{1}, {3}, {0}, {2}}));
  // With room for two parameters per bucket, arrival neighbours share one.
  plan = plan_buckets(floats({kMiBFloats / 2, kMiBFloats / 2, kMiBFloats / 2, kMiBFloats / 2}), {1.0, 1.0}, {1, 3, 0, 2});
  EXPECT_EQ(plan, (Plan{{1, 3}, {0, 2}}));
}

TEST(BucketPlan, RejectsAnOrderThatIsNotAPermutation) {
  EXPECT_THROW(plan_buckets(floats({10, 10}), {1.0, 1.0}, {1, 1}), std::logic_error);
  EXPECT_THROW(plan_buckets(floats({10, 10}), {1.0, 1.0}, {0}), std::logic_error);
  EXPECT_THROW(plan_buckets(floats({10, 10}), {1.0, 1.0}, {0, 2}), std::logic_error);
}

}  // namespace
}  // namespace tandem::ddp
