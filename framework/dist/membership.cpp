// Membership (membership.h): the beating thread of a worker of a multi-host job.
#include "framework/dist/membership.h"

#include <fmt/format.h>

#include "framework/dist/store_wire.h"

namespace tandem::dist {

Membership::Membership(const std::string& host, int port, const std::string& token, int rank, int host_index,
                       std::chrono::milliseconds connect_timeout, OnLost on_lost)
    : store_(fmt::format("host 0 (rank 0, whose store is at {}:{})", host, port)),
      client_(std::make_unique<StoreClient>(host, port, token, connect_timeout)),
      on_lost_(std::move(on_lost)) {
  client_->call({"join", std::to_string(rank), std::to_string(host_index)}, std::chrono::milliseconds(wire::kSilentForMs));
  thread_ = std::thread([this] { beat_until_stopped(); });
}

Membership::~Membership() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  client_.reset();  // closes the connection
}

void Membership::leave() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  try {
    client_->call({"leave"}, std::chrono::milliseconds(wire::kSilentForMs));
  } catch (const std::exception&) {
    // The store is already gone: the job is over for everyone.
  }
}

std::optional<std::string> Membership::lost(std::chrono::milliseconds within) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, within, [this] { return lost_.has_value(); });
  return lost_;
}

void Membership::beat_until_stopped() {
  const auto every = std::chrono::milliseconds(wire::kBeatEveryMs);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (changed_.wait_for(lock, every, [this] { return stopping_; })) return;
    }
    std::vector<std::string> reply;
    try {
      reply = client_->call({"beat"}, std::chrono::milliseconds(wire::kSilentForMs));
    } catch (const std::exception& e) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;  // leave() or the destructor closed it under us
      }
      return report(fmt::format("{} was lost: {}", store_, e.what()));
    }
    if (reply.size() == 2 && reply[0] == "lost") return report(reply[1]);
  }
}

void Membership::report(const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    lost_ = what;
  }
  changed_.notify_all();
  if (on_lost_) on_lost_(what);
}

}  // namespace tandem::dist
