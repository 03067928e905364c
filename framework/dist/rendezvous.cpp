#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <thread>

#include "framework/core/error.h"
#include "framework/dist/c10d_communicator.h"

namespace tandem::dist {
namespace {

using Clock = std::chrono::steady_clock;

std::string arrival_key(int rank) { return fmt::format("tandem/arrived/{}", rank); }

constexpr const char* kJobKey = "tandem/job";

/// FNV-1a: a stable digest, so the token itself is not stored in clear.
std::vector<uint8_t> token_digest(const std::string& token) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : "tandem-store-token:" + token) h = (h ^ c) * 1099511628211ull;
  const std::string text = fmt::format("{:016x}", h);
  return {text.begin(), text.end()};
}

/// Rank 0 publishes the job's token digest; every other rank checks it before
/// announcing itself, so a worker of another job that dialled this job's port
/// stops with an error and leaves no trace in the store.
void check_job_token(c10d::Store& store, const World& world, std::chrono::milliseconds timeout) {
  const auto mine = token_digest(world.store_token);
  if (world.rank == 0) {
    store.set(kJobKey, mine);
    return;
  }
  try {
    store.wait({kJobKey}, timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("[dist] rendezvous timed out after {} s on rank {}: rank 0 did not open the "
                                         "job at {}:{} ({})",
                                         timeout.count() / 1000.0, world.rank, world.master_addr, world.master_port,
                                         e.what()));
  }
  if (store.get(kJobKey) != mine) {
    throw BadInput(fmt::format(
        "[dist] rank {}: the store at {}:{} belongs to another job (its token differs from this worker's "
        "TANDEM_STORE_TOKEN{}); check MASTER_PORT, and give every worker of one job the same token (or none)",
        world.rank, world.master_addr, world.master_port, world.store_token.empty() ? ", which is unset" : ""));
  }
}

/// Every rank announces itself, then waits for all others; on timeout the
/// error lists exactly the ranks that never announced.
void wait_for_everyone(c10d::Store& store, const World& world, std::chrono::milliseconds timeout) {
  store.set(arrival_key(world.rank), std::vector<uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < world.world_size; ++r) keys.push_back(arrival_key(r));
  const auto deadline = Clock::now() + timeout;
  while (!store.check(keys)) {
    if (Clock::now() > deadline) {
      std::string missing;
      for (int r = 0; r < world.world_size; ++r) {
        if (!store.check({arrival_key(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      }
      throw std::runtime_error(fmt::format(
          "[dist] rendezvous timed out after {} s on rank {}: rank(s) {} of {} did not arrive at {}:{}",
          timeout.count() / 1000.0, world.rank, missing, world.world_size, world.master_addr, world.master_port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::unique_ptr<Communicator> connect(const World& world, const DistOptions& options) {
  if (!world.distributed()) return make_local_communicator();
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(world.master_port);
  store_options.isServer = world.rank == 0;
  store_options.numWorkers = c10::nullopt;
  store_options.waitWorkers = false;  // wait_for_everyone() names who is missing instead
  store_options.timeout = options.timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, store_options);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("[dist] rank {} could not {} the store at {}:{}: {}", world.rank,
                                         world.rank == 0 ? "host" : "reach rank 0's", world.master_addr,
                                         world.master_port, e.what()));
  }
  check_job_token(*store, world, options.timeout);
  wait_for_everyone(*store, world, options.timeout);
  return make_c10d_communicator(store, world, options);
}

}  // namespace tandem::dist
