#include "framework/dist/store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "framework/core/log.h"

// Requests (first string) and replies:
//   hello PROTOCOL TOKEN     -> ok | denied      (must come first; denied closes)
//   set KEY VALUE            -> ok
//   get KEY                  -> ok VALUE | missing
//   add KEY DELTA            -> ok SUM           (decimal text, as c10d stores it)
//   cas KEY EXPECTED DESIRED -> ok VALUE
//   append KEY VALUE         -> ok
//   del KEY                  -> ok 1|0
//   check KEY...             -> ok 1|0
//   num                      -> ok COUNT
//   wait MILLIS KEY...       -> ok | timeout MISSING...   (the server keeps the time)
// Anything else, or a request while a wait is pending, closes the connection.

namespace tandem::dist {
namespace {

using Clock = std::chrono::steady_clock;
using Message = std::vector<std::string>;

constexpr const char* kProtocol = "tandem-store/1";
constexpr uint32_t kMaxParts = 1 << 16;
constexpr uint64_t kMaxMessageBytes = 1ull << 30;  // c10d stores hold small values; 1 GiB is generous
constexpr auto kHelloWithin = std::chrono::seconds(10);
constexpr size_t kMaxConnections = 4096;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string encode(const Message& message) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(message.size()));
  for (const auto& part : message) {
    put_u32(out, static_cast<uint32_t>(part.size()));
    out += part;
  }
  return out;
}

enum class Parse { kNeedMore, kDone, kBad };

/// Parses one message from the front of `in`. kBad as soon as the header
/// breaks a limit, without waiting for the bytes it announces.
Parse parse(const std::string& in, Message& message, size_t& consumed) {
  if (in.size() < 4) return Parse::kNeedMore;
  const uint32_t parts = get_u32(in.data());
  if (parts == 0 || parts > kMaxParts) return Parse::kBad;
  size_t pos = 4;
  uint64_t total = 0;
  Message out;
  out.reserve(std::min<uint32_t>(parts, 64));
  for (uint32_t i = 0; i < parts; ++i) {
    if (in.size() < pos + 4) return Parse::kNeedMore;
    const uint32_t len = get_u32(in.data() + pos);
    total += len;
    if (total > kMaxMessageBytes) return Parse::kBad;
    pos += 4;
    if (in.size() < pos + len) return Parse::kNeedMore;
    out.emplace_back(in, pos, len);
    pos += len;
  }
  message = std::move(out);
  consumed = pos;
  return Parse::kDone;
}

bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;  // the length is no secret
  // Constant time in the content: the reply time says nothing about how much matched.
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

std::string numeric_address(const sockaddr* sa) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof(text));
  } else if (sa->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof(text));
  }
  return text;
}

std::string errno_text() { return std::strerror(errno); }

struct AddrInfo {
  addrinfo* list = nullptr;
  ~AddrInfo() {
    if (list != nullptr) ::freeaddrinfo(list);
  }
};

}  // namespace

std::string store_bind_address(const std::string& master_addr) {
  if (master_addr == "localhost") return "127.0.0.1";
  in_addr v4{};
  if (::inet_pton(AF_INET, master_addr.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) return master_addr;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, master_addr.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6)) return master_addr;
  return "";
}

// ---- server ----------------------------------------------------------------

struct StoreServer::Impl {
  struct Conn {
    int fd = -1;
    std::string peer;
    std::string in, out;
    bool admitted = false;
    bool close_after_write = false;
    Clock::time_point opened;
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

  void serve();
  void on_readable(Conn& c);
  void handle(Conn& c, Message& request);
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
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = bind_addr.empty() ? AF_INET6 : AF_UNSPEC;
  const std::string service = std::to_string(port);
  std::string last_error = "no address";
  for (int attempt = 0; attempt < 2 && impl_->listen_fd < 0; ++attempt) {
    if (attempt == 1) {
      if (!bind_addr.empty()) break;
      hints.ai_family = AF_INET;  // no IPv6 on this host: every IPv4 interface
    }
    AddrInfo found;
    const int rc = ::getaddrinfo(bind_addr.empty() ? nullptr : bind_addr.c_str(), service.c_str(), &hints, &found.list);
    if (rc != 0) {
      last_error = ::gai_strerror(rc);
      continue;
    }
    for (addrinfo* ai = found.list; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
      if (fd < 0) {
        last_error = errno_text();
        continue;
      }
      const int one = 1, zero = 0;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (ai->ai_family == AF_INET6 && bind_addr.empty()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
        last_error = errno_text();
        ::close(fd);
        continue;
      }
      sockaddr_storage bound{};
      socklen_t len = sizeof(bound);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      impl_->port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                     : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
      impl_->address = numeric_address(reinterpret_cast<sockaddr*>(&bound));
      impl_->listen_fd = fd;
      break;
    }
  }
  if (impl_->listen_fd < 0) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", bind_addr.empty() ? "every interface" : bind_addr,
                                         port, last_error));
  }
  if (::pipe2(impl_->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(impl_->listen_fd);
    throw std::runtime_error("store: pipe(): " + errno_text());
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->serve(); });
}

StoreServer::~StoreServer() {
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
    // The nearest deadline: a pending wait, or a connection that has not said hello.
    auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    for (auto& c : conns) {
      if (c.waiting) next = std::min(next, c.wait_deadline);
      if (!c.admitted) next = std::min(next, c.opened + kHelloWithin);
    }
    fds.clear();
    owners.clear();
    fds.push_back({wake[0], POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (auto& c : conns) {
      fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
      owners.push_back(&c);
    }
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, wait_ms) + 1));
    if (ready < 0 && errno != EINTR) {
      log_warn("store", "poll() failed: {}; the store stops serving", errno_text());
      return;
    }
    if (stop) return;
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
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
    for (size_t i = 0; ready > 0 && i < owners.size(); ++i) {
      Conn& c = *owners[i];
      const short ev = fds[i + 2].revents;
      if (c.fd >= 0 && (ev & POLLOUT) != 0) flush(c);
      if (c.fd >= 0 && (ev & (POLLIN | POLLHUP | POLLERR)) != 0) on_readable(c);
    }
    now = Clock::now();
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
      }
    }
    conns.remove_if([](const Conn& c) { return c.fd < 0; });
  }
}

void StoreServer::Impl::on_readable(Conn& c) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
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
      refuse(c, false, c.admitted ? "a malformed message from an admitted client" : "bytes that are not a Tandem store message");
      drop(c);
      return;
    }
    c.in.erase(0, consumed);
    handle(c, request);
  }
}

void StoreServer::Impl::handle(Conn& c, Message& r) {
  const std::string& op = r[0];
  auto bad = [&](const char* why) {
    refuse(c, false, why);
    drop(c);
  };
  if (!c.admitted) {
    if (op != "hello" || r.size() != 3 || r[1] != kProtocol) return bad("a first message that is not a Tandem greeting");
    if (!same_token(r[2], token)) {
      refuse(c, true, "its TANDEM_STORE_TOKEN is not this job's");
      c.close_after_write = true;
      reply(c, {"denied"});
      return;
    }
    c.admitted = true;
    {
      std::lock_guard<std::mutex> lock(stats_mutex);
      ++stats.admitted;
    }
    reply(c, {"ok"});
    return;
  }
  if (c.waiting) return bad("a request while its wait was pending");
  if (op == "set" && r.size() == 3) {
    data[r[1]] = std::move(r[2]);
    reply(c, {"ok"});
    wake_waiters();
  } else if (op == "get" && r.size() == 2) {
    auto it = data.find(r[1]);
    if (it == data.end()) {
      reply(c, {"missing"});
    } else {
      reply(c, {"ok", it->second});
    }
  } else if (op == "add" && r.size() == 3) {
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
  } else if (op == "cas" && r.size() == 4) {
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
  } else if (op == "append" && r.size() == 3) {
    data[r[1]] += r[2];
    reply(c, {"ok"});
    wake_waiters();
  } else if (op == "del" && r.size() == 2) {
    reply(c, {"ok", data.erase(r[1]) > 0 ? "1" : "0"});
  } else if (op == "check" && r.size() >= 2) {
    const std::vector<std::string> keys(r.begin() + 1, r.end());
    reply(c, {"ok", missing(keys).empty() ? "1" : "0"});
  } else if (op == "num" && r.size() == 1) {
    reply(c, {"ok", std::to_string(data.size())});
  } else if (op == "wait" && r.size() >= 3) {
    int64_t millis = 0;
    try {
      millis = std::stoll(r[1]);
    } catch (const std::exception&) {
      return bad("a wait without a time limit");
    }
    c.wait_keys.assign(r.begin() + 2, r.end());
    if (missing(c.wait_keys).empty()) {
      reply(c, {"ok"});
    } else {
      c.waiting = true;
      c.wait_deadline = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, millis));
    }
  } else {
    bad("an unknown request");
  }
}

// ---- client ----------------------------------------------------------------

namespace {

/// One connect() to any address of host:port; -1 and `error` when none took.
int dial(const std::string& host, int port, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICSERV;
  AddrInfo found;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found.list);
  if (rc != 0) {
    error = ::gai_strerror(rc);
    return -1;
  }
  for (addrinfo* ai = found.list; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return fd;
    }
    error = errno_text();
    ::close(fd);
  }
  return -1;
}

void send_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("sending failed: " + errno_text());
    done += static_cast<size_t>(n);
  }
}

Message receive(int fd, Clock::time_point deadline) {
  std::string in;
  char buffer[65536];
  for (;;) {
    Message message;
    size_t consumed = 0;
    const Parse p = parse(in, message, consumed);
    if (p == Parse::kDone) return message;
    if (p == Parse::kBad) throw std::runtime_error("the store sent a malformed reply");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("no reply in time");
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(n == 0 ? "the store closed the connection" : "receiving failed: " + errno_text());
    in.append(buffer, static_cast<size_t>(n));
  }
}

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

StoreClient::StoreClient(std::string host, int port, std::string token, std::chrono::milliseconds connect_timeout)
    : host_(std::move(host)), port_(port), token_(std::move(token)) {
  const auto deadline = Clock::now() + connect_timeout;
  std::string error;
  for (;;) {
    fd_ = dial(host_, port_, error);
    if (fd_ >= 0) break;
    if (Clock::now() >= deadline) {
      throw std::runtime_error(
          fmt::format("nothing answered at {}:{} within {} s ({})", host_, port_, connect_timeout.count() / 1000.0, error));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Message reply;
  try {
    send_all(fd_, encode({"hello", kProtocol, token_}));
    reply = receive(fd_, Clock::now() + std::max(connect_timeout, std::chrono::milliseconds(10000)));
  } catch (const std::exception& e) {
    ::close(fd_);
    throw std::runtime_error(fmt::format("{}:{} is not a Tandem store: {}", host_, port_, e.what()));
  }
  if (reply.empty() || reply[0] != "ok") {
    ::close(fd_);
    if (!reply.empty() && reply[0] == "denied") {
      throw StoreRefused(fmt::format("the store at {}:{} refused this worker's token", host_, port_));
    }
    throw std::runtime_error(fmt::format("{}:{} is not a Tandem store", host_, port_));
  }
}

StoreClient::~StoreClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<std::string> StoreClient::call(const std::vector<std::string>& request,
                                           std::chrono::milliseconds reply_within) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) throw std::runtime_error(fmt::format("the connection to the store at {}:{} was lost", host_, port_));
  try {
    send_all(fd_, encode(request));
    auto reply = receive(fd_, Clock::now() + reply_within);
    if (reply.empty()) throw std::runtime_error("an empty reply");
    if (reply[0] == "error") throw std::runtime_error(reply.size() > 1 ? reply[1] : "an error");
    return reply;
  } catch (const std::exception& e) {
    // A late reply would be read as the answer to the next request: this connection is done.
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(fmt::format("store at {}:{}: {} failed: {}", host_, port_, request[0], e.what()));
  }
}

namespace {
// Replies other than to wait come at once; this only guards against a store that is gone.
constexpr auto kReplyWithin = std::chrono::milliseconds(60000);
// The server keeps a wait's time; the client allows this much more before it gives up on the server.
constexpr auto kWaitSlack = std::chrono::milliseconds(5000);
}  // namespace

void StoreClient::set(const std::string& key, const Bytes& value) { call({"set", key, text(value)}, kReplyWithin); }

Bytes StoreClient::get(const std::string& key, std::chrono::milliseconds timeout) {
  wait({key}, timeout);
  auto reply = call({"get", key}, kReplyWithin);
  if (reply[0] != "ok" || reply.size() != 2) {
    throw std::runtime_error(fmt::format("store at {}:{}: key '{}' vanished while being read", host_, port_, key));
  }
  return bytes(reply[1]);
}

int64_t StoreClient::add(const std::string& key, int64_t delta) {
  return std::stoll(call({"add", key, std::to_string(delta)}, kReplyWithin).at(1));
}

Bytes StoreClient::compare_set(const std::string& key, const Bytes& expected, const Bytes& desired) {
  return bytes(call({"cas", key, text(expected), text(desired)}, kReplyWithin).at(1));
}

void StoreClient::append(const std::string& key, const Bytes& value) {
  call({"append", key, text(value)}, kReplyWithin);
}

bool StoreClient::erase(const std::string& key) { return call({"del", key}, kReplyWithin).at(1) == "1"; }

bool StoreClient::check(const std::vector<std::string>& keys) {
  if (keys.empty()) return true;
  std::vector<std::string> request{"check"};
  request.insert(request.end(), keys.begin(), keys.end());
  return call(request, kReplyWithin).at(1) == "1";
}

int64_t StoreClient::num_keys() { return std::stoll(call({"num"}, kReplyWithin).at(1)); }

void StoreClient::wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) {
  if (keys.empty()) return;
  std::vector<std::string> request{"wait", std::to_string(timeout.count())};
  request.insert(request.end(), keys.begin(), keys.end());
  auto reply = call(request, timeout + kWaitSlack);
  if (reply[0] == "ok") return;
  std::vector<std::string> missing(reply.begin() + 1, reply.end());
  std::string names;
  for (const auto& k : missing) names += (names.empty() ? "" : ", ") + k;
  throw StoreTimeout(fmt::format("timed out after {} s waiting for key(s) {} in the store at {}:{}",
                                 timeout.count() / 1000.0, names, host_, port_),
                     std::move(missing));
}

}  // namespace tandem::dist
