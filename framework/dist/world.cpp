#include "framework/dist/world.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>

#include "framework/core/error.h"

namespace tandem::dist {
namespace {

int read_int(const EnvLookup& env, const char* name, int fallback, int min) {
  const char* text = env(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < min || value > 1 << 24) {
    throw BadInput(fmt::format("environment variable {}: expected an integer >= {}, got '{}'", name, min, text));
  }
  return static_cast<int>(value);
}

std::string first_host(const std::string& nodelist) {
  // Slurm's compressed host list: "node[01-04,07],gpu5" -> "node01".
  std::string item;
  int depth = 0;
  for (char c : nodelist) {
    if (c == ',' && depth == 0) break;
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    item += c;
  }
  const auto open = item.find('[');
  if (open == std::string::npos) return item;
  std::string first;
  for (std::size_t i = open + 1; i < item.size() && std::isdigit(static_cast<unsigned char>(item[i])); ++i) {
    first += item[i];
  }
  return item.substr(0, open) + first;
}

bool set(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

std::string first_host_of_nodelist(const std::string& nodelist) { return first_host(nodelist); }

World world_from_env(const EnvLookup& lookup) {
  EnvLookup env = lookup ? lookup : EnvLookup([](const char* n) { return std::getenv(n); });
  World w;
  // The same five numbers under each launcher's names; the first launcher
  // whose variables are present wins.
  struct Names {
    const char* source;
    const char* present;
    const char* size;
    const char* rank;
    const char* local_size;
    const char* local_rank;
    const char* node_rank;
  };
  static const Names kLaunchers[] = {
      {"torchrun", "RANK", "WORLD_SIZE", "RANK", "LOCAL_WORLD_SIZE", "LOCAL_RANK", "GROUP_RANK"},
      {"torchrun", "WORLD_SIZE", "WORLD_SIZE", "RANK", "LOCAL_WORLD_SIZE", "LOCAL_RANK", "GROUP_RANK"},
      {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
       "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_NODE_RANK"},
      {"slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_NTASKS_PER_NODE", "SLURM_LOCALID",
       "SLURM_NODEID"},
  };
  for (const Names& n : kLaunchers) {
    if (!set(env, n.present)) continue;
    w.source = n.source;
    w.world_size = read_int(env, n.size, 1, 1);
    w.rank = read_int(env, n.rank, 0, 0);
    w.local_world_size = read_int(env, n.local_size, w.world_size, 1);
    w.local_rank = read_int(env, n.local_rank, w.rank % w.local_world_size, 0);
    w.group_rank = read_int(env, n.node_rank, w.rank / w.local_world_size, 0);
    break;
  }
  if (w.source == "slurm") {
    const char* nodes = set(env, "SLURM_JOB_NODELIST") ? env("SLURM_JOB_NODELIST") : env("SLURM_NODELIST");
    if (nodes != nullptr && *nodes != '\0') w.master_addr = first_host(nodes);
  }
  w.restart_count = read_int(env, "TORCHELASTIC_RESTART_COUNT", 0, 0);
  if (const char* token = env("TANDEM_STORE_TOKEN"); token != nullptr) w.store_token = token;
  w.master_port = read_int(env, "MASTER_PORT", 29500, 1);
  if (const char* addr = env("MASTER_ADDR"); addr != nullptr && *addr != '\0') w.master_addr = addr;
  if (w.rank >= w.world_size) {
    throw BadInput(fmt::format("environment: RANK={} must be < WORLD_SIZE={}", w.rank, w.world_size));
  }
  if (w.local_rank >= w.local_world_size) {
    throw BadInput(fmt::format("environment: LOCAL_RANK={} must be < LOCAL_WORLD_SIZE={}", w.local_rank,
                               w.local_world_size));
  }
  if (w.master_port > 65535) {
    throw BadInput(fmt::format("environment: MASTER_PORT={} is not a TCP port", w.master_port));
  }
  return w;
}

}  // namespace tandem::dist
