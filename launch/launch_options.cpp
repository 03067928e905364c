#include "launch/launch_options.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <thread>

#include "framework/core/error.h"
#include "framework/recipe/binding.h"

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

namespace {

/// Every key of the launch: section, bound to its LaunchOptions field (the
/// defaults are the struct's). `backends`: those this build supports.
recipe::Binding<LaunchOptions> launch_bindings(const std::vector<std::string>& backends) {
  using O = LaunchOptions;
  recipe::Binding<O> b("How `tandem launch` starts the workers.");
  b.key("nproc_per_node", &O::nproc_per_node, "Worker processes on this machine (--nproc-per-node).").min(1).max(1024);
  std::vector<std::string> choices{"auto"};
  choices.insert(choices.end(), backends.begin(), backends.end());
  auto& backend = b.choice("backend", &O::backend,
                           "Collective backend. auto: NCCL for the gradients of a job on GPUs and Gloo for its CPU "
                           "tensors, Gloo alone on the CPU; gloo: every tensor through Gloo, CUDA tensors too; nccl: "
                           "NCCL for CUDA tensors (CUDA builds, GPU jobs), Gloo for the rest.",
                           choices);
  if (std::find(backends.begin(), backends.end(), "nccl") == backends.end()) {
    backend.unavailable("nccl", "this Tandem is built against a LibTorch without CUDA, so it has no NCCL");
  }
  b.key("timeout_s", &O::timeout_s, "Timeout of the rendezvous and of every collective, in seconds.").greater_than(0);
  b.key("master_addr", &O::master_addr, "Address of rank 0's store (--master-addr).");
  b.key("master_port", &O::master_port, "Port of rank 0's store; 0 picks a free one (--master-port).").min(0).max(65535);
  b.key("nnodes", &O::nnodes, "Hosts in the job; run the same launch command on each (--nnodes).").min(1).max(4096);
  b.key("node_rank", &O::node_rank, "This host's index among the hosts, 0 on the host of master_addr (--node-rank).")
      .min(0);
  b.key("max_restarts", &O::max_restarts,
        "After a worker fails, restart the whole group from the newest checkpoint up to this many times "
        "(--max-restarts).")
      .min(0)
      .max(1000);
  return b;
}

}  // namespace

recipe::Section launch_schema(const std::vector<std::string>& backends) {
  recipe::Section s = launch_bindings(backends).schema();
  add_multi_host_rules(s);
  return s;
}

LaunchOptions launch_options_from(const YAML::Node& n) {
  // Reading needs no list of backends: validation has checked the value.
  return launch_bindings({}).read(n);
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
