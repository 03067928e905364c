// StoreClient (store.h): one blocking connection, calls serialised by a mutex.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "framework/dist/store.h"
#include "framework/dist/store_wire.h"

namespace tandem::dist {

using namespace wire;

namespace {

using Clock = std::chrono::steady_clock;

// Replies other than to wait come at once; this only guards against a store that is gone.
constexpr auto kReplyWithin = std::chrono::milliseconds(60000);
// The server keeps a wait's time; the client allows this much more before it gives up on the server.
constexpr auto kWaitSlack = std::chrono::milliseconds(5000);

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
    if (fd_ >= 0) {
      // A store whose job lost a member is ending: wait for the next one (a restart).
      if (admitted(std::max(connect_timeout, std::chrono::milliseconds(10000)), error)) return;
      ::close(fd_);
      fd_ = -1;
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error(
          fmt::format("nothing answered at {}:{} within {} s ({})", host_, port_, connect_timeout.count() / 1000.0, error));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// The challenge and response on a fresh connection. True once admitted;
/// false, with `why`, when the store is ending its job; throws otherwise.
bool StoreClient::admitted(std::chrono::milliseconds reply_within, std::string& why) {
  const std::string client_nonce = fresh_nonce();
  Message reply;
  try {
    send_all(fd_, encode({"hello", kProtocol, client_nonce}));
    reply = receive(fd_, Clock::now() + reply_within);
    if (reply.size() != 2 || reply[0] != "challenge" || reply[1].size() != 32) throw std::runtime_error("no challenge");
    send_all(fd_, encode({"prove", client_proof(token_, reply[1], client_nonce)}));
    const std::string server_nonce = reply[1];
    reply = receive(fd_, Clock::now() + reply_within);
    if (reply.size() == 2 && reply[0] == "ok" && same_token(reply[1], server_proof(token_, server_nonce, client_nonce))) {
      return true;
    }
  } catch (const std::exception& e) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(fmt::format("{}:{} is not a Tandem store: {}", host_, port_, e.what()));
  }
  if (reply.size() == 2 && reply[0] == "ended") {
    why = "the store there is ending its job, in which " + reply[1];
    return false;
  }
  ::close(fd_);
  fd_ = -1;
  if (!reply.empty() && (reply[0] == "denied" || reply[0] == "ok")) {
    // "ok" with a wrong proof: a store that does not hold this worker's token either.
    throw StoreRefused(fmt::format("the store at {}:{} refused this worker's token", host_, port_));
  }
  throw std::runtime_error(fmt::format("{}:{} is not a Tandem store", host_, port_));
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
  const std::string names = fmt::format("{}", fmt::join(missing, ", "));
  throw StoreTimeout(fmt::format("timed out after {} s waiting for key(s) {} in the store at {}:{}",
                                 timeout.count() / 1000.0, names, host_, port_),
                     std::move(missing));
}

}  // namespace tandem::dist
