#pragma once
/// A worker's membership of a job spread over several hosts (internal to
/// framework/dist). It holds a second connection to rank 0's store, joins as
/// (rank, host) and beats every 0.5 s from a thread of its own. The store
/// records the first member that goes without leaving (its connection closed:
/// the process died, its host's launcher was killed; or 5 s of silence: a cut
/// link) and tells every other member at its next beat. A member that hears
/// of a loss, or loses the store itself (no reply within 5 s, or the
/// connection closed), calls `on_lost` with a sentence naming the host and
/// rank, from the membership's thread. So a lost host is noticed within
/// seconds whatever the worker's own thread is blocked in.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "framework/dist/store.h"

namespace tandem::dist {

class Membership {
 public:
  using OnLost = std::function<void(const std::string& what)>;

  /// Connects (up to `connect_timeout`), joins and starts beating.
  Membership(const std::string& host, int port, const std::string& token, int rank, int host_index,
             std::chrono::milliseconds connect_timeout, OnLost on_lost);
  /// Stops beating and closes the connection: without leave() first, the
  /// store takes that as this worker's loss.
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  /// This worker has finished: the store is told, so its closing is no loss.
  void leave();

  /// What was lost, as the store or the beating thread learnt it, waiting up
  /// to `within` for news (a collective that failed on a lost peer asks).
  std::optional<std::string> lost(std::chrono::milliseconds within);

 private:
  void beat_until_stopped();
  void report(const std::string& what);

  std::string store_;  ///< "host 0's store at ADDR:PORT"
  std::unique_ptr<StoreClient> client_;
  OnLost on_lost_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::optional<std::string> lost_;
  std::thread thread_;
};

}  // namespace tandem::dist
