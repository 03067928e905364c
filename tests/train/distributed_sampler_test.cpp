#include "framework/train/distributed_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace tandem {
namespace {

/// Rank `rank` of `world` over `n` samples; shuffled with `seed` unless `shuffle` is false.
SamplerOptions sampler(int64_t n, int world, int rank, uint64_t seed, bool shuffle = true) {
  SamplerOptions o;
  o.dataset_size = n;
  o.world_size = world;
  o.rank = rank;
  o.seed = seed;
  o.shuffle = shuffle;
  return o;
}

std::vector<std::vector<int64_t>> shards(int64_t n, int world, uint64_t seed, int64_t epoch) {
  std::vector<std::vector<int64_t>> out;
  for (int r = 0; r < world; ++r) out.push_back(DistributedSampler(sampler(n, world, r, seed)).indices(epoch));
  return out;
}

TEST(DistributedSampler, ShardsAreDisjointAndCoverTheData) {
  for (int64_t n : {10, 11, 97}) {
    for (int world : {1, 2, 3}) {
      auto s = shards(n, world, 5, 0);
      std::multiset<int64_t> seen;
      for (auto& shard : s) {
        EXPECT_EQ(static_cast<int64_t>(shard.size()), (n + world - 1) / world);
        seen.insert(shard.begin(), shard.end());
      }
      std::set<int64_t> distinct(seen.begin(), seen.end());
      EXPECT_EQ(static_cast<int64_t>(distinct.size()), n) << "every sample is covered";
      // Only the wrap-around padding repeats samples: at most world-1 of them.
      EXPECT_EQ(static_cast<int64_t>(seen.size()) - n, (world - n % world) % world);
      if (n % world == 0) {
        for (int a = 0; a < world; ++a)
          for (int b = a + 1; b < world; ++b)
            for (auto i : s[a]) EXPECT_EQ(std::count(s[b].begin(), s[b].end(), i), 0);
      }
    }
  }
}

TEST(DistributedSampler, UnionOfRankBatchesIsTheSingleProcessBatch) {
  const int64_t n = 100, batch = 5;
  const int world = 2;
  auto s = shards(n, world, 3, 1);
  auto single = DistributedSampler(sampler(n, 1, 0, 3)).indices(1);
  for (int64_t step = 0; step < n / (batch * world); ++step) {
    std::set<int64_t> together;
    for (auto& shard : s) together.insert(shard.begin() + step * batch, shard.begin() + (step + 1) * batch);
    std::set<int64_t> expected(single.begin() + step * batch * world, single.begin() + (step + 1) * batch * world);
    EXPECT_EQ(together, expected) << "step " << step;
  }
}

TEST(DistributedSampler, EpochReshufflesDeterministically) {
  DistributedSampler s({50, 1, 0, true, 9});
  EXPECT_EQ(s.indices(0), s.indices(0));
  EXPECT_NE(s.indices(0), s.indices(1));
  auto unshuffled = DistributedSampler(sampler(5, 2, 1, 0, /*shuffle=*/false)).indices(0);
  EXPECT_EQ(unshuffled, (std::vector<int64_t>{1, 3, 0}));
}

TEST(DistributedSampler, RejectsBadWorlds) {
  EXPECT_THROW(DistributedSampler(sampler(10, 2, 2, 0)), std::logic_error);
  EXPECT_THROW(DistributedSampler(sampler(0, 1, 0, 0)), std::logic_error);
}

TEST(Permutation, IsAPermutationAndFixedForASeed) {
  auto p = permutation(1000, 42);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(p, permutation(1000, 42));
  EXPECT_NE(p, permutation(1000, 43));
}

}  // namespace
}  // namespace tandem
