#include "launch/launch_options.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <thread>

#include "framework/core/error.h"

namespace tandem::launch {

namespace {

/// What a group spread over several hosts needs: each host a distinct index
/// below nnodes, and one port that every host dials.
void add_multi_host_rules(recipe::Section& s) {
  s.rule([](const YAML::Node& l) -> std::optional<recipe::Section::Problem> {
    const int nnodes = l["nnodes"].as<int>(), node_rank = l["node_rank"].as<int>();
    if (node_rank < nnodes) return std::nullopt;
    return recipe::Section::Problem{
        "node_rank", fmt::format("expected a host index below launch.nnodes={}, got {}", nnodes, node_rank)};
  });
  s.rule([](const YAML::Node& l) -> std::optional<recipe::Section::Problem> {
    const int nnodes = l["nnodes"].as<int>();
    if (nnodes == 1 || l["master_port"].as<int>() != 0) return std::nullopt;
    return recipe::Section::Problem{
        "master_port", fmt::format("expected a fixed port when launch.nnodes={} (every host must dial the same "
                                   "one), got 0; set launch.master_port or pass --master-port",
                                   nnodes)};
  });
}

}  // namespace

recipe::Section launch_schema(const std::vector<std::string>& backends) {
  using recipe::Type;
  recipe::Section s("How `tandem launch` starts the workers.");
  s.add("nproc_per_node", Type::kInt, "Worker processes on this machine (--nproc-per-node).").def(1).min(1).max(1024);
  std::vector<std::string> choices{"auto"};
  choices.insert(choices.end(), backends.begin(), backends.end());
  auto& backend = s.add("backend", Type::kChoice, "Collective backend. auto: NCCL for the gradients of a job on GPUs and Gloo for "
                        "its CPU tensors, Gloo alone on the CPU; gloo: every tensor through Gloo, CUDA tensors "
                        "too; nccl: NCCL for CUDA tensors (CUDA builds, GPU jobs), Gloo for the rest.")
                      .def("auto")
                      .choices(choices);
  if (std::find(backends.begin(), backends.end(), "nccl") == backends.end()) {
    backend.unavailable("nccl", "this Tandem is built against a LibTorch without CUDA, so it has no NCCL");
  }
  s.add("timeout_s", Type::kFloat, "Timeout of the rendezvous and of every collective, in seconds.")
      .def(300.0)
      .greater_than(0);
  s.add("master_addr", Type::kString, "Address of rank 0's store (--master-addr).").def("127.0.0.1");
  s.add("master_port", Type::kInt, "Port of rank 0's store; 0 picks a free one (--master-port).").def(0).min(0).max(65535);
  s.add("nnodes", Type::kInt, "Hosts in the job; run the same launch command on each (--nnodes).").def(1).min(1).max(4096);
  s.add("node_rank", Type::kInt, "This host's index among the hosts, 0 on the host of master_addr (--node-rank).")
      .def(0)
      .min(0);
  s.add("max_restarts", Type::kInt,
        "After a worker fails, restart the whole group from the newest checkpoint up to this many times "
        "(--max-restarts).")
      .def(0)
      .min(0)
      .max(1000);
  add_multi_host_rules(s);
  return s;
}

LaunchOptions launch_options_from(const YAML::Node& n) {
  LaunchOptions o;
  o.nproc_per_node = n["nproc_per_node"].as<int>();
  o.backend = n["backend"].as<std::string>();
  o.timeout_s = n["timeout_s"].as<double>();
  o.master_addr = n["master_addr"].as<std::string>();
  o.master_port = n["master_port"].as<int>();
  o.max_restarts = n["max_restarts"].as<int>();
  o.nnodes = n["nnodes"].as<int>();
  o.node_rank = n["node_rank"].as<int>();
  return o;
}

int workers_per_node(const std::string& value, int cpu_cores, int gpus) {
  if (value == "cpu") return std::min(cpu_cores, 1024);
  if (value == "gpu") {
    if (gpus > 0) return gpus;
    throw BadInput("--nproc-per-node gpu: expected at least one visible GPU, got none (a CPU-only LibTorch, no "
                   "CUDA device, or CUDA_VISIBLE_DEVICES hides them); use cpu, auto or a number");
  }
  if (value == "auto") return gpus > 0 ? gpus : std::min(cpu_cores, 1024);
  int n = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc() || end != value.data() + value.size() || n < 1 || n > 1024) {
    throw BadInput(fmt::format("--nproc-per-node: expected auto, cpu, gpu or an integer in [1, 1024], got '{}'",
                               value));
  }
  return n;
}

int usable_cpu_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace tandem::launch
