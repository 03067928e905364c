#include "framework/dist/world.h"

#include <fmt/format.h>

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

}  // namespace

World world_from_env(const EnvLookup& lookup) {
  EnvLookup env = lookup ? lookup : EnvLookup([](const char* n) { return std::getenv(n); });
  World w;
  w.world_size = read_int(env, "WORLD_SIZE", 1, 1);
  w.rank = read_int(env, "RANK", 0, 0);
  w.local_world_size = read_int(env, "LOCAL_WORLD_SIZE", w.world_size, 1);
  w.local_rank = read_int(env, "LOCAL_RANK", w.rank % w.local_world_size, 0);
  w.group_rank = read_int(env, "GROUP_RANK", w.rank / w.local_world_size, 0);
  w.master_port = read_int(env, "MASTER_PORT", 29500, 1);
  w.restart_count = read_int(env, "TORCHELASTIC_RESTART_COUNT", 0, 0);
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
