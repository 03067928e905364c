#include "framework/ddp/options_schema.h"

#include "framework/ddp/comm_hook_registry.h"
#include "framework/recipe/binding.h"

namespace tandem::ddp {
namespace {

/// Every key of the ddp: section, bound to its DdpOptions field (the
/// defaults are the struct's). Built on each call: the hook names come from
/// the registry, which a program may have added to.
recipe::Binding<DdpOptions> ddp_bindings() {
  recipe::Binding<DdpOptions> b("Data-parallel gradient synchronisation.");
  b.key("bucket_cap_mb", &DdpOptions::bucket_cap_mb, "Gradient bucket size in MiB; a bucket is reduced once full.")
      .greater_than(0);
  b.key("first_bucket_mb", &DdpOptions::first_bucket_mb,
        "Size cap of the first bucket, kept small so communication starts early.")
      .greater_than(0);
  b.key("broadcast_buffers", &DdpOptions::broadcast_buffers, "Broadcast rank 0's module buffers before each forward.");
  b.key("find_unused_parameters", &DdpOptions::find_unused_parameters,
        "Walk the graph after forward and treat parameters it does not reach as having a zero gradient "
        "(for models that skip parameters on some steps; costs a graph traversal per step).");
  b.choice("comm_hook", &DdpOptions::comm_hook,
           "What a full bucket does: allreduce (in the gradients' dtype), or fp16 / bf16, which compress the "
           "gradients to 16 bits for the reduction and halve the bytes sent, at a relative error of about "
           "2^-11 (fp16) or 2^-8 (bf16) per element.",
           comm_hook_registry().names());
  return b;
}

}  // namespace

recipe::Section ddp_schema() { return ddp_bindings().schema(); }

DdpOptions ddp_options_from(const YAML::Node& n) { return ddp_bindings().read(n); }

}  // namespace tandem::ddp
