#pragma once
/// The recipe's `launch:` section: how many workers, which backend, timeouts.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "framework/recipe/schema.h"

namespace tandem::launch {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;     ///< hosts in the job; each runs the same `tandem launch` with its own node_rank
  int node_rank = 0;  ///< this host's index; node 0 hosts rank 0 and the store
  std::string backend = "auto";
  double timeout_s = 300.0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  ///< 0: the launcher picks a free port
  int max_restarts = 0; ///< restarts of the whole group after a worker fails, from the newest checkpoint
};

/// `backends` are those this build supports (dist::available_backends()).
recipe::Section launch_schema(const std::vector<std::string>& backends);
LaunchOptions launch_options_from(const YAML::Node& resolved_launch_section);

/// Workers per host for `--nproc-per-node VALUE`, read as torchrun reads it:
/// an integer in [1, 1024]; `cpu`, the CPU cores this process may run on;
/// `gpu`, the visible GPUs (an error when there are none); `auto`, the GPUs
/// when there are any, else the CPU cores. Bad input names the flag, what was
/// expected and what was got.
int workers_per_node(const std::string& value, int cpu_cores, int gpus);

/// The CPU cores this process may run on (its affinity mask; at least 1).
int usable_cpu_cores();

}  // namespace tandem::launch
