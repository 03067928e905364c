#pragma once
/// Who this worker is in the job, read from the environment with torchrun's
/// variable names (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
/// MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT). Without them the
/// worker is a world of one.
#include <functional>
#include <string>

namespace tandem::dist {

struct World {
  int rank = 0;
  int local_rank = 0;
  int world_size = 1;
  int local_world_size = 1;
  int group_rank = 0;  ///< the node's index among nodes
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int restart_count = 0;  ///< how often the launcher restarted the group (TORCHELASTIC_RESTART_COUNT)

  bool distributed() const { return world_size > 1; }
};

using EnvLookup = std::function<const char*(const char*)>;

/// Reads the world from the environment (or `lookup`, for tests). Values that
/// are not integers or contradict each other (rank >= world size) are a BadInput
/// naming the variable.
World world_from_env(const EnvLookup& lookup = nullptr);

}  // namespace tandem::dist
