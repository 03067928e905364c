// StoreServer (store.h): one thread polls the listening socket and every
// connection; the data and the pending waits live on that thread alone.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <list>
#include <map>
#include <string>
#include <thread>

#include "framework/core/log.h"
#include "framework/dist/store.h"
#include "framework/dist/store_listener.h"
#include "framework/dist/store_wire.h"

namespace tandem::dist {

using namespace wire;

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kHelloWithin = std::chrono::seconds(10);
constexpr size_t kMaxConnections = 4096;

}  // namespace

struct StoreServer::Impl {
  struct Conn {
    int fd = -1;
    std::string peer;
    std::string in, out;
    bool admitted = false;
    bool close_after_write = false;
    Clock::time_point opened;
    std::string client_nonce, server_nonce;  ///< set by hello; the proof must answer them
    // A member's heartbeat connection (join): its closing without leave, or
    // its silence, is the loss of that worker.
    int member_rank = -1, member_host = -1;
    bool left = false;
    Clock::time_point last_heard;
    bool waiting = false;
    std::vector<std::string> wait_keys;
    Clock::time_point wait_deadline;
  };

  std::string token;
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  int port = 0;
  std::string address;
  std::thread thread;
  std::atomic<bool> stop{false};
  mutable std::mutex stats_mutex;
  Stats stats;
  std::map<std::string, std::string> data;
  std::list<Conn> conns;
  std::string lost;  ///< who was lost first, and how; empty while every member is well
  // Read by the destructor's thread: members still in the job, and whether one was lost.
  std::atomic<int> active_members{0};
  std::atomic<bool> any_lost{false};

  void serve();
  Clock::time_point next_deadline(Clock::time_point now) const;
  void accept_all();
  void expire(Clock::time_point now);
  void on_readable(Conn& c);
  void handle(Conn& c, Message& request);
  void greet(Conn& c, const Message& hello);
  void check_proof(Conn& c, const Message& prove);
  void member_request(Conn& c, const Message& r);
  void lose(Conn& c, const std::string& how);
  bool is_member(const Conn& c) const { return c.member_rank >= 0 && !c.left; }
  void add(Conn& c, const Message& r);
  void compare_set(Conn& c, const Message& r);
  void wait(Conn& c, const Message& r);

  void reply(Conn& c, const Message& message) {
    c.out += encode(message);
    flush(c);
  }
  void flush(Conn& c) {
    while (!c.out.empty()) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out.erase(0, static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        drop(c);
        return;
      }
    }
    if (c.close_after_write) drop(c);
  }
  void drop(Conn& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }
  void refuse(Conn& c, bool token_mismatch, const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(stats_mutex);
      ++(token_mismatch ? stats.refused_token : stats.refused_protocol);
    }
    log_warn("store", "refused a connection from {}: {}", c.peer, why);
  }
  /// Refuses and closes: the connection broke the protocol.
  void reject(Conn& c, const char* why) {
    refuse(c, false, why);
    drop(c);
  }
  std::vector<std::string> missing(const std::vector<std::string>& keys) const {
    std::vector<std::string> out;
    for (const auto& k : keys) {
      if (data.count(k) == 0) out.push_back(k);
    }
    return out;
  }
  void wake_waiters() {
    for (auto& c : conns) {
      if (c.fd >= 0 && c.waiting && missing(c.wait_keys).empty()) {
        c.waiting = false;
        reply(c, {"ok"});
      }
    }
  }
};

StoreServer::StoreServer(const std::string& bind_addr, int port, std::string token) : impl_(new Impl) {
  impl_->token = std::move(token);
  const Listener listener = listen_on(bind_addr, port);
  impl_->listen_fd = listener.fd;
  impl_->port = listener.port;
  impl_->address = listener.address;
  if (::pipe2(impl_->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(impl_->listen_fd);
    throw std::runtime_error("store: pipe(): " + errno_text());
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->serve(); });
}

StoreServer::~StoreServer() {
  // Rank 0 has finished: it waits (bounded) until the other members have
  // left or gone, so that none of them sees its store vanish while it is
  // still finishing; after a loss there is nothing to wait for.
  const auto until = Clock::now() + std::chrono::seconds(30);
  while (impl_->active_members.load() > 0 && !impl_->any_lost.load() && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->stop = true;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(impl_->wake[1], &byte, 1);
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& c : impl_->conns) impl_->drop(c);
  ::close(impl_->listen_fd);
  ::close(impl_->wake[0]);
  ::close(impl_->wake[1]);
}

int StoreServer::port() const { return impl_->port; }
const std::string& StoreServer::bound_address() const { return impl_->address; }
StoreServer::Stats StoreServer::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mutex);
  return impl_->stats;
}

void StoreServer::Impl::serve() {
  std::vector<pollfd> fds;
  std::vector<Conn*> owners;
  while (!stop) {
    const auto now = Clock::now();
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline(now) - now).count();
    fds.clear();
    owners.clear();
    fds.push_back({wake[0], POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (auto& c : conns) {
      fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
      owners.push_back(&c);
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, wait_ms) + 1));
    if (ready < 0 && errno != EINTR) {
      log_warn("store", "poll() failed: {}; the store stops serving", errno_text());
      return;
    }
    if (stop) return;
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) accept_all();
    for (size_t i = 0; ready > 0 && i < owners.size(); ++i) {
      Conn& c = *owners[i];
      const short ev = fds[i + 2].revents;
      if (c.fd >= 0 && (ev & POLLOUT) != 0) flush(c);
      if (c.fd >= 0 && (ev & (POLLIN | POLLHUP | POLLERR)) != 0) on_readable(c);
    }
    expire(Clock::now());
    for (auto& c : conns) {
      if (c.fd < 0 && is_member(c)) lose(c, "its connection to the store closed");
    }
    conns.remove_if([](const Conn& c) { return c.fd < 0; });
  }
}

/// The nearest deadline: a pending wait, or a connection that has not said hello.
Clock::time_point StoreServer::Impl::next_deadline(Clock::time_point now) const {
  auto next = now + std::chrono::seconds(1);
  for (const auto& c : conns) {
    if (c.waiting) next = std::min(next, c.wait_deadline);
    if (!c.admitted) next = std::min(next, c.opened + kHelloWithin);
    if (is_member(c)) next = std::min(next, c.last_heard + std::chrono::milliseconds(kSilentForMs));
  }
  return next;
}

void StoreServer::Impl::accept_all() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) break;
    if (conns.size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Conn c;
    c.fd = fd;
    c.peer = numeric_address(reinterpret_cast<sockaddr*>(&peer));
    c.opened = Clock::now();
    conns.push_back(std::move(c));
  }
}

/// Ends the waits whose time is up, and the connections silent since they opened.
void StoreServer::Impl::expire(Clock::time_point now) {
  for (auto& c : conns) {
    if (c.fd < 0) continue;
    if (c.waiting && now >= c.wait_deadline) {
      c.waiting = false;
      Message r{"timeout"};
      for (auto& k : missing(c.wait_keys)) r.push_back(k);
      reply(c, r);
    } else if (!c.admitted && now >= c.opened + kHelloWithin) {
      refuse(c, false, "no greeting within 10 s");
      drop(c);
    } else if (is_member(c) && now >= c.last_heard + std::chrono::milliseconds(kSilentForMs)) {
      lose(c, fmt::format("nothing heard from it for {} s (a cut link, or its host stopped)", kSilentForMs / 1000));
      drop(c);
    }
  }
}

void StoreServer::Impl::on_readable(Conn& c) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      c.last_heard = Clock::now();
      c.in.append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buffer)) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // Closed by the peer (a probe that only checked the port says nothing), or an error.
    if (!c.admitted && !c.in.empty()) refuse(c, false, "closed before a complete greeting");
    drop(c);
    return;
  }
  while (c.fd >= 0 && !c.close_after_write) {
    Message request;
    size_t consumed = 0;
    const Parse p = parse(c.in, request, consumed);
    if (p == Parse::kNeedMore) return;
    if (p == Parse::kBad) {
      return reject(c, c.admitted ? "a malformed message from an admitted client"
                                  : "bytes that are not a Tandem store message");
    }
    c.in.erase(0, consumed);
    handle(c, request);
  }
}

void StoreServer::Impl::handle(Conn& c, Message& r) {
  if (!c.admitted) return greet(c, r);
  if (c.waiting) return reject(c, "a request while its wait was pending");
  const std::string& op = r[0];
  const size_t n = r.size();
  if (op == "join" || op == "beat" || op == "leave") {
    member_request(c, r);
  } else if (op == "set" && n == 3) {
    data[r[1]] = std::move(r[2]);
    reply(c, {"ok"});
    wake_waiters();
  } else if (op == "get" && n == 2) {
    auto it = data.find(r[1]);
    reply(c, it == data.end() ? Message{"missing"} : Message{"ok", it->second});
  } else if (op == "add" && n == 3) {
    add(c, r);
  } else if (op == "cas" && n == 4) {
    compare_set(c, r);
  } else if (op == "append" && n == 3) {
    data[r[1]] += r[2];
    reply(c, {"ok"});
    wake_waiters();
  } else if (op == "del" && n == 2) {
    reply(c, {"ok", data.erase(r[1]) > 0 ? "1" : "0"});
  } else if (op == "check" && n >= 2) {
    reply(c, {"ok", missing(std::vector<std::string>(r.begin() + 1, r.end())).empty() ? "1" : "0"});
  } else if (op == "num" && n == 1) {
    reply(c, {"ok", std::to_string(data.size())});
  } else if (op == "wait" && n >= 3) {
    wait(c, r);
  } else {
    reject(c, "an unknown request");
  }
}

/// hello: the client's nonce; the server answers with its own. The token is
/// never sent: the next message must prove it (check_proof).
void StoreServer::Impl::greet(Conn& c, const Message& r) {
  if (!c.server_nonce.empty()) return check_proof(c, r);
  if (r[0] != "hello" || r.size() != 3 || r[1] != kProtocol || r[2].size() != 32) {
    return reject(c, "a first message that is not a Tandem greeting");
  }
  c.client_nonce = r[2];
  c.server_nonce = fresh_nonce();
  reply(c, {"challenge", c.server_nonce});
}

void StoreServer::Impl::check_proof(Conn& c, const Message& r) {
  if (r[0] != "prove" || r.size() != 2) return reject(c, "a greeting without the proof that must follow it");
  if (!same_token(r[1], client_proof(token, c.server_nonce, c.client_nonce))) {
    refuse(c, true, "its TANDEM_STORE_TOKEN is not this job's");
    c.close_after_write = true;
    reply(c, {"denied"});
    return;
  }
  if (!lost.empty()) {
    // A job that lost a member is ending: a worker of the next attempt waits for the next store.
    c.close_after_write = true;
    reply(c, {"ended", lost});
    return;
  }
  c.admitted = true;
  {
    std::lock_guard<std::mutex> lock(stats_mutex);
    ++stats.admitted;
  }
  reply(c, {"ok", server_proof(token, c.server_nonce, c.client_nonce)});
}

void StoreServer::Impl::member_request(Conn& c, const Message& r) {
  const std::string& op = r[0];
  if (op == "join" && r.size() == 3 && c.member_rank < 0) {
    try {
      c.member_rank = std::stoi(r[1]);
      c.member_host = std::stoi(r[2]);
    } catch (const std::exception&) {
      return reject(c, "a join without a rank and a host");
    }
    c.last_heard = Clock::now();
    ++active_members;
    reply(c, {"ok"});
  } else if (op == "beat" && r.size() == 1 && is_member(c)) {
    reply(c, lost.empty() ? Message{"ok"} : Message{"lost", lost});
  } else if (op == "leave" && r.size() == 1 && is_member(c)) {
    c.left = true;
    --active_members;
    reply(c, {"ok"});
  } else {
    reject(c, "a membership request out of turn");
  }
}

/// Member `c` is gone without leaving. The first such loss is the job's
/// story: every member's next beat hears it, and pending waits end with it.
void StoreServer::Impl::lose(Conn& c, const std::string& how) {
  const int rank = c.member_rank, host = c.member_host;
  c.left = true;  // counted once
  --active_members;
  if (!lost.empty()) return;
  lost = fmt::format("host {} (rank {}) was lost: {}", host, rank, how);
  any_lost = true;
  log_warn("store", "{}", lost);
  for (auto& other : conns) {
    if (other.fd >= 0 && other.waiting) {
      other.waiting = false;
      reply(other, {"error", lost});
    }
  }
}

void StoreServer::Impl::add(Conn& c, const Message& r) {
  int64_t delta = 0, value = 0;
  try {
    delta = std::stoll(r[2]);
    auto it = data.find(r[1]);
    if (it != data.end()) value = std::stoll(it->second);
  } catch (const std::exception&) {
    reply(c, {"error", "add on a value that is not an integer"});
    return;
  }
  value += delta;
  data[r[1]] = std::to_string(value);
  reply(c, {"ok", std::to_string(value)});
  wake_waiters();
}

void StoreServer::Impl::compare_set(Conn& c, const Message& r) {
  auto it = data.find(r[1]);
  std::string now;
  if (it == data.end()) {
    if (r[2].empty()) {
      data[r[1]] = r[3];
      now = r[3];
    } else {
      now = r[2];
    }
  } else {
    if (it->second == r[2]) it->second = r[3];
    now = it->second;
  }
  reply(c, {"ok", now});
  wake_waiters();
}

void StoreServer::Impl::wait(Conn& c, const Message& r) {
  int64_t millis = 0;
  try {
    millis = std::stoll(r[1]);
  } catch (const std::exception&) {
    return reject(c, "a wait without a time limit");
  }
  c.wait_keys.assign(r.begin() + 2, r.end());
  if (missing(c.wait_keys).empty()) {
    reply(c, {"ok"});
  } else {
    c.waiting = true;
    c.wait_deadline = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, millis));
  }
}

}  // namespace tandem::dist
