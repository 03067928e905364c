#include "framework/ddp/options_schema.h"

#include "framework/ddp/comm_hook_registry.h"

namespace tandem::ddp {

recipe::Section ddp_schema() {
  using recipe::Type;
  recipe::Section s("Data-parallel gradient synchronisation.");
  s.add("bucket_cap_mb", Type::kFloat, "Gradient bucket size in MiB; a bucket is reduced once full.")
      .def(25.0)
      .greater_than(0);
  s.add("first_bucket_mb", Type::kFloat, "Size cap of the first bucket, kept small so communication starts early.")
      .def(1.0)
      .greater_than(0);
  s.add("broadcast_buffers", Type::kBool, "Broadcast rank 0's module buffers before each forward.").def(true);
  s.add("find_unused_parameters", Type::kBool,
        "Walk the graph after forward and treat parameters it does not reach as having a zero gradient "
        "(for models that skip parameters on some steps; costs a graph traversal per step).")
      .def(false);
  s.add("comm_hook", Type::kChoice,
        "What a full bucket does: allreduce (in the gradients' dtype), or fp16 / bf16, which compress the "
        "gradients to 16 bits for the reduction and halve the bytes sent, at a relative error of about "
        "2^-11 (fp16) or 2^-8 (bf16) per element.")
      .choices(comm_hook_registry().names())
      .def(std::string("allreduce"));
  return s;
}

DdpOptions ddp_options_from(const YAML::Node& n) {
  DdpOptions o;
  o.bucket_cap_mb = n["bucket_cap_mb"].as<double>();
  o.first_bucket_mb = n["first_bucket_mb"].as<double>();
  o.broadcast_buffers = n["broadcast_buffers"].as<bool>();
  o.find_unused_parameters = n["find_unused_parameters"].as<bool>();
  o.comm_hook = n["comm_hook"].as<std::string>();
  return o;
}

}  // namespace tandem::ddp
