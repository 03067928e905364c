#pragma once
/// Tandem's rendezvous store: a small key-value server that rank 0 runs on a
/// background thread, and a client every rank (rank 0 too) talks to it with.
///
/// It replaces c10d's TCPStore for two reasons. LibTorch 1.13's TCPStore
/// listens on every interface; this server binds the address it is given, so
/// a single-host job's store is reachable over loopback only. And it admits a
/// connection only after it proves it holds the job's token
/// (TANDEM_STORE_TOKEN) by a challenge and response (HMAC-SHA256 of fresh
/// nonces: the token never crosses the wire, store_wire.h): a wrong token is
/// told so and closed; bytes that are
/// not a message, a message over the size limits, or silence for 10 s before
/// the first message close the connection too. None of them touch the data.
///
/// Wire format: every message is a list of byte strings, framed as a
/// little-endian u32 count followed by, for each string, a u32 length and its
/// bytes. A request's first string names the operation; see store_wire.h.
/// No LibTorch here: rendezvous.cpp adapts the client to c10d::Store.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace tandem::dist {

using Bytes = std::vector<uint8_t>;

/// The server refused this client: its token is not the job's.
class StoreRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// wait() ran out of time; what() names the keys that were still missing.
class StoreTimeout : public std::runtime_error {
 public:
  StoreTimeout(const std::string& what, std::vector<std::string> missing)
      : std::runtime_error(what), missing_(std::move(missing)) {}
  const std::vector<std::string>& missing() const { return missing_; }

 private:
  std::vector<std::string> missing_;
};

/// The address a store for a job whose master is `master_addr` should bind:
/// that loopback address itself when the master is on loopback (a single-host
/// job), else "" (every interface, so other hosts can reach it).
std::string store_bind_address(const std::string& master_addr);

class StoreServer {
 public:
  /// Binds `bind_addr`:`port` (a numeric address or a host name; "" means
  /// every interface, IPv6 and IPv4) with SO_REUSEADDR, listens, and serves
  /// until destroyed. Port 0 lets the kernel choose; see port().
  StoreServer(const std::string& bind_addr, int port, std::string token);
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  int port() const;
  /// The numeric address the listening socket is bound to ("127.0.0.1", "::").
  const std::string& bound_address() const;

  struct Stats {
    int64_t admitted = 0;          ///< connections that presented the job's token
    int64_t refused_token = 0;     ///< connections that presented another token
    int64_t refused_protocol = 0;  ///< garbage, oversized frames, silence before the first message
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One connection to a StoreServer. Every call is a blocking round trip and
/// calls are serialised, so one client may be shared between threads.
class StoreClient {
 public:
  /// Connects to host:port, retrying while nothing listens yet (rank 0 may
  /// start later than the others) until `connect_timeout`, and presents
  /// `token`. Throws StoreRefused for a wrong token, std::runtime_error when
  /// nothing answered in time.
  StoreClient(std::string host, int port, std::string token, std::chrono::milliseconds connect_timeout);
  ~StoreClient();
  StoreClient(const StoreClient&) = delete;
  StoreClient& operator=(const StoreClient&) = delete;

  void set(const std::string& key, const Bytes& value);
  /// The value of `key`, waiting up to `timeout` for it to be set.
  Bytes get(const std::string& key, std::chrono::milliseconds timeout);
  /// Adds `delta` to the integer stored (as decimal text, like c10d) at `key`
  /// (0 when absent) and returns the sum.
  int64_t add(const std::string& key, int64_t delta);
  /// c10d's compareSet: sets `desired` when the value equals `expected` (or
  /// the key is absent and `expected` is empty); returns the value now held
  /// (`expected` when the key is absent and `expected` is not empty).
  Bytes compare_set(const std::string& key, const Bytes& expected, const Bytes& desired);
  void append(const std::string& key, const Bytes& value);
  /// Whether `key` existed (it does not any more).
  bool erase(const std::string& key);
  bool check(const std::vector<std::string>& keys);
  int64_t num_keys();
  /// Returns once every key is set; throws StoreTimeout after `timeout`.
  void wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout);

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& token() const { return token_; }

 private:
  friend class Membership;
  bool admitted(std::chrono::milliseconds reply_within, std::string& why);
  std::vector<std::string> call(const std::vector<std::string>& request, std::chrono::milliseconds reply_within);

  std::string host_;
  int port_;
  std::string token_;
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace tandem::dist
