#pragma once
/// Who this worker is in the job, read from the environment: torchrun's
/// variable names (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK),
/// else Open MPI's (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE,
/// _NODE_RANK), else Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
/// SLURM_NTASKS_PER_NODE, SLURM_NODEID, and the first host of
/// SLURM_JOB_NODELIST as the master). MASTER_ADDR and MASTER_PORT override in
/// every case. Without any of them the worker is a world of one.
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
  /// TANDEM_STORE_TOKEN: the job's token, checked at rendezvous so that a worker
  /// of another job cannot join this one by dialling its port. Empty: none.
  std::string store_token;
  std::string source = "none";  ///< whose variables: torchrun, openmpi, slurm or none

  bool distributed() const { return world_size > 1; }
};

using EnvLookup = std::function<const char*(const char*)>;

/// Reads the world from the environment (or `lookup`, for tests). Values that
/// are not integers or contradict each other (rank >= world size) are a BadInput
/// naming the variable.
World world_from_env(const EnvLookup& lookup = nullptr);

/// The first host of a Slurm host list ("node[01-04],gpu5" -> "node01").
std::string first_host_of_nodelist(const std::string& nodelist);

}  // namespace tandem::dist
