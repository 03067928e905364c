#pragma once
/// Which samples each rank sees, with PyTorch's DistributedSampler semantics:
/// one permutation of the data set from seed + epoch, shared by every rank,
/// padded by wrapping around to a multiple of the world size; rank r takes
/// positions r, r + N, r + 2N, ... So at step i the union of the ranks'
/// batches (batch B each) is the single-process batch i of size N*B.
#include <cstdint>
#include <vector>

namespace tandem {

struct SamplerOptions {
  int64_t dataset_size = 0;
  int world_size = 1;
  int rank = 0;
  bool shuffle = true;
  uint64_t seed = 0;
};

class DistributedSampler {
 public:
  explicit DistributedSampler(SamplerOptions options);

  /// This rank's indices for `epoch`, in order.
  std::vector<int64_t> indices(int64_t epoch) const;
  /// Number of indices per rank and epoch: ceil(dataset_size / world_size).
  int64_t per_rank() const;

 private:
  SamplerOptions options_;
};

/// The same permutation every platform produces for (n, seed): Fisher–Yates
/// over a 64-bit Mersenne Twister.
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

/// Positions [begin, begin + count) of `indices`, fewer where it ends first:
/// one batch of a rank's share.
std::vector<int64_t> slice_indices(const std::vector<int64_t>& indices, int64_t begin, int64_t count);

}  // namespace tandem
