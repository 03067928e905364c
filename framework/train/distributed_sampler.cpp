#include "framework/train/distributed_sampler.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "framework/core/error.h"

namespace tandem {

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    // Modulo of a 64-bit draw: bias is below 2^-40 for any realistic n, and
    // unlike std::uniform_int_distribution it is the same on every library.
    auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

DistributedSampler::DistributedSampler(SamplerOptions options) : options_(options) {
  TANDEM_CHECK(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size, "train",
               "DistributedSampler: rank {} must be in [0, world_size {})", options_.rank, options_.world_size);
  TANDEM_CHECK(options_.dataset_size >= 1, "train", "DistributedSampler: the data set is empty");
}

int64_t DistributedSampler::per_rank() const {
  return (options_.dataset_size + options_.world_size - 1) / options_.world_size;
}

std::vector<int64_t> DistributedSampler::indices(int64_t epoch) const {
  const int64_t n = options_.dataset_size;
  std::vector<int64_t> order;
  if (options_.shuffle) {
    order = permutation(n, options_.seed + static_cast<uint64_t>(epoch));
  } else {
    order.resize(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
  }
  const int64_t total = per_rank() * options_.world_size;
  std::vector<int64_t> mine;
  mine.reserve(static_cast<std::size_t>(per_rank()));
  for (int64_t pos = options_.rank; pos < total; pos += options_.world_size) mine.push_back(order[pos % n]);
  return mine;
}

std::vector<int64_t> slice_indices(const std::vector<int64_t>& indices, int64_t begin, int64_t count) {
  const auto first = indices.begin() + begin;
  return std::vector<int64_t>(first, first + std::min<int64_t>(count, static_cast<int64_t>(indices.size()) - begin));
}

}  // namespace tandem
