#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <algorithm>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/c10d_communicator.h"
#include "framework/dist/endpoint.h"
#include "framework/dist/membership.h"
#include "framework/dist/store.h"

#include <cstdio>
#include <cstdlib>

namespace tandem::dist {
namespace {

std::string arrival_key(int rank) { return fmt::format("tandem/arrived/{}", rank); }

/// Tandem's store (store.h) as a c10d::Store, for ProcessGroupGloo/NCCL.
/// Rank 0's instance also owns the server, which therefore lives exactly as
/// long as the process group that holds the store.
class TandemStore : public c10d::Store {
 public:
  TandemStore(std::shared_ptr<StoreServer> server, std::shared_ptr<StoreClient> client,
              std::chrono::milliseconds timeout)
      : c10d::Store(timeout), server_(std::move(server)), client_(std::move(client)) {}

  using c10d::Store::set;
  void set(const std::string& key, const std::vector<uint8_t>& value) override { client_->set(key, value); }
  using c10d::Store::compareSet;
  std::vector<uint8_t> compareSet(const std::string& key, const std::vector<uint8_t>& expected,
                                  const std::vector<uint8_t>& desired) override {
    return client_->compare_set(key, expected, desired);
  }
  std::vector<uint8_t> get(const std::string& key) override { return client_->get(key, timeout_); }
  int64_t add(const std::string& key, int64_t value) override { return client_->add(key, value); }
  bool deleteKey(const std::string& key) override { return client_->erase(key); }
  bool check(const std::vector<std::string>& keys) override { return client_->check(keys); }
  int64_t getNumKeys() override { return client_->num_keys(); }
  void wait(const std::vector<std::string>& keys) override { client_->wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    client_->wait(keys, timeout);
  }
  // Virtual in LibTorch 2.x, absent from 1.13: not marked override, so that
  // they override where the base declares them and are plain members where it
  // does not (see torch_compat.h).
  void append(const std::string& key, const std::vector<uint8_t>& value) { client_->append(key, value); }
  /// A second connection to the same server, for use from another thread.
  c10::intrusive_ptr<c10d::Store> clone() {
    auto client = std::make_shared<StoreClient>(client_->host(), client_->port(), client_->token(), timeout_);
    return c10::make_intrusive<TandemStore>(server_, std::move(client), timeout_);
  }

 private:
  std::shared_ptr<StoreServer> server_;
  std::shared_ptr<StoreClient> client_;
};

/// Every rank announces itself, then waits for all others; on timeout the
/// error lists exactly the ranks that never announced.
void wait_for_everyone(StoreClient& store, const World& world, std::chrono::milliseconds timeout) {
  store.set(arrival_key(world.rank), std::vector<uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < world.world_size; ++r) keys.push_back(arrival_key(r));
  try {
    store.wait(keys, timeout);
  } catch (const StoreTimeout& e) {
    std::string missing;
    for (int r = 0; r < world.world_size; ++r) {
      if (std::find(e.missing().begin(), e.missing().end(), arrival_key(r)) != e.missing().end()) {
        missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      }
    }
    throw std::runtime_error(fmt::format(
        "[dist] rendezvous timed out after {} s on rank {}: rank(s) {} of {} did not arrive at {}:{}",
        timeout.count() / 1000.0, world.rank, missing, world.world_size, world.master_addr, world.master_port));
  }
}

/// The endpoint, said once per host of a job over several hosts: where this
/// host's workers listen for their peers (on one host: loopback, unsaid).
Endpoint announced_endpoint(const World& world) {
  Endpoint e = choose_endpoint(world);
  if (world.local_rank == 0 && spans_hosts(world)) {
    const std::string where = e.address.empty()   ? "interface " + e.interface
                              : e.interface.empty() ? e.address
                                                    : fmt::format("{} ({})", e.address, e.interface);
    log_info("dist", "host {}: Gloo listens on {}, {}", world.group_rank, where, e.how);
  }
  return e;
}

/// What a worker does, by default, when it hears that its job lost a member.
void exit_on_lost_member(int rank, const std::string& what) {
  std::fprintf(stderr, "error: [dist] rank %d stops: %s\n", rank, what.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace

std::unique_ptr<Communicator> connect(const World& world, const DistOptions& options) {
  if (!world.distributed()) return make_local_communicator();
  // Before any connection: a job of several hosts that would advertise loopback stops here.
  const Endpoint endpoint = announced_endpoint(world);
  std::shared_ptr<StoreServer> server;
  if (world.rank == 0) {
    try {
      server = std::make_shared<StoreServer>(store_bind_address(world.master_addr), world.master_port, world.store_token);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("[dist] rank 0 could not host the store at {}:{}: {}", world.master_addr,
                                           world.master_port, e.what()));
    }
  }
  std::shared_ptr<StoreClient> client;
  try {
    client = std::make_shared<StoreClient>(world.master_addr, world.master_port, world.store_token, options.timeout);
  } catch (const StoreRefused&) {
    throw BadInput(fmt::format(
        "[dist] rank {}: the store at {}:{} belongs to another job (its token differs from this worker's "
        "TANDEM_STORE_TOKEN{}); check MASTER_PORT, and give every worker of one job the same token (or none)",
        world.rank, world.master_addr, world.master_port, world.store_token.empty() ? ", which is unset" : ""));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("[dist] rendezvous timed out after {} s on rank {}: could not reach rank 0's "
                                         "store at {}:{}: {}",
                                         options.timeout.count() / 1000.0, world.rank, world.master_addr,
                                         world.master_port, e.what()));
  }
  std::shared_ptr<Membership> membership;
  if (spans_hosts(world)) {
    Membership::OnLost on_lost = options.on_member_lost;
    if (!on_lost) on_lost = [rank = world.rank](const std::string& what) { exit_on_lost_member(rank, what); };
    membership = std::make_shared<Membership>(world.master_addr, world.master_port, world.store_token, world.rank,
                                              world.group_rank, options.timeout, std::move(on_lost));
  }
  auto store = c10::make_intrusive<TandemStore>(server, client, options.timeout);
  wait_for_everyone(*client, world, options.timeout);
  return make_c10d_communicator(store, world, options, endpoint, std::move(membership));
}

}  // namespace tandem::dist
