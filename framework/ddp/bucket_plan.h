#pragma once
/// Which parameters share a gradient bucket. Buckets are filled in *reverse*
/// registration order, because backward produces the last layer's gradients
/// first (the order PyTorch's Reducer starts from, torch/csrc/distributed/c10d/reducer.cpp).
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::ddp {

struct ParamInfo {
  int64_t numel = 0;
  int64_t element_size = 4;  ///< bytes
  std::string group;         ///< dtype and device: only equal groups share a bucket
};

struct BucketPlanOptions {
  double bucket_cap_mb = 25.0;
  double first_bucket_mb = 1.0;
};

/// Buckets as lists of parameter indices (into `params`), in the order they
/// are expected to fill. Parameters are taken in `order` (a permutation of the
/// indices: the order gradients arrive in); empty means reverse registration
/// order, the guess before the first backward. A bucket closes once it holds
/// >= its cap, so a parameter larger than the cap gets a bucket of its own.
std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<ParamInfo>& params,
                                                   const BucketPlanOptions& options,
                                                   const std::vector<std::size_t>& order = {});

}  // namespace tandem::ddp
