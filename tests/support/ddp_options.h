#pragma once
/// DDP options for tests, set by name: a bucket cap (1e-9 MiB puts every
/// parameter in a bucket of its own), and whatever else a test changes.
#include <string>

#include "framework/ddp/options.h"

namespace tandem::test {

inline ddp::DdpOptions bucket_caps(double cap_mb, bool find_unused_parameters = false,
                                   const std::string& comm_hook = "allreduce") {
  ddp::DdpOptions o;
  o.bucket_cap_mb = cap_mb;
  o.first_bucket_mb = cap_mb;
  o.find_unused_parameters = find_unused_parameters;
  o.comm_hook = comm_hook;
  return o;
}

}  // namespace tandem::test
