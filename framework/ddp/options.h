#pragma once
/// How DistributedDataParallel buckets and reduces gradients. A plain struct:
/// the recipe's `ddp:` section is read into it by options_schema.h, which a
/// user of the DDP module alone need not include.
#include <string>

namespace tandem::ddp {

struct DdpOptions {
  double bucket_cap_mb = 25.0;   ///< a bucket closes once it holds at least this much
  double first_bucket_mb = 1.0;  ///< the first bucket is small so communication starts early
  bool broadcast_buffers = true; ///< copy rank 0's buffers to every rank before each forward
  bool find_unused_parameters = false;  ///< after forward, mark parameters the graph skips as ready
  std::string comm_hook = "allreduce";  ///< what a full bucket does: a registered hook (comm_hook_registry.h)
};

}  // namespace tandem::ddp
