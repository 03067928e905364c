#include "framework/ddp/bucket_plan.h"

#include <map>
#include <stdexcept>

#include "framework/core/error.h"

namespace tandem::ddp {

std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<ParamInfo>& params,
                                                   const BucketPlanOptions& options,
                                                   const std::vector<std::size_t>& order) {
  std::vector<std::size_t> sequence = order;
  if (sequence.empty()) {
    for (std::size_t k = params.size(); k-- > 0;) sequence.push_back(k);
  }
  std::vector<char> seen(params.size(), 0);
  for (std::size_t k : sequence) {
    TANDEM_CHECK(k < params.size() && !seen[k], "ddp", "plan_buckets: order is not a permutation");
    seen[k] = 1;
  }
  TANDEM_CHECK(sequence.size() == params.size(), "ddp", "plan_buckets: order is not a permutation");
  constexpr double kMiB = 1024.0 * 1024.0;
  struct Open {
    std::vector<std::size_t> members;
    double bytes = 0;
  };
  std::vector<std::vector<std::size_t>> closed;
  std::map<std::string, Open> open;  // one filling bucket per dtype/device group
  std::vector<std::string> open_order;
  for (std::size_t k : sequence) {
    const ParamInfo& p = params[k];
    auto [it, inserted] = open.try_emplace(p.group);
    if (inserted) open_order.push_back(p.group);
    Open& bucket = it->second;
    bucket.members.push_back(k);
    bucket.bytes += static_cast<double>(p.numel * p.element_size);
    const double cap = (closed.empty() ? options.first_bucket_mb : options.bucket_cap_mb) * kMiB;
    if (bucket.bytes >= cap) {
      closed.push_back(std::move(bucket.members));
      bucket = Open{};
    }
  }
  for (const auto& group : open_order) {
    if (!open[group].members.empty()) closed.push_back(std::move(open[group].members));
  }
  return closed;
}

}  // namespace tandem::ddp
