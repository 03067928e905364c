#pragma once
/// Picking a TCP port for rank 0's store without a race.
#include <string>

namespace tandem::launch {

/// A port the kernel chose (bind to port 0) and that stays reserved while this
/// object holds it: the socket is bound with SO_REUSEADDR but never listens, so
/// the kernel gives the port to no other bind(0) or outgoing connection, while
/// rank 0's store (which also sets SO_REUSEADDR, as c10d does) can still bind
/// and listen on it. The launcher releases it once the store listens.
class PortReservation {
 public:
  PortReservation() = default;
  /// Reserves a free port on `addr` (an IPv4 address; anything else: all interfaces).
  explicit PortReservation(const std::string& addr);
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;
  PortReservation(PortReservation&& other) noexcept;
  PortReservation& operator=(PortReservation&& other) noexcept;
  ~PortReservation() { release(); }

  int port() const { return port_; }
  bool held() const { return fd_ >= 0; }
  void release();

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// Whether something accepts TCP connections on addr:port (a connect that
/// succeeds within `timeout_ms`; the connection is closed at once).
bool is_listening(const std::string& addr, int port, int timeout_ms = 200);

}  // namespace tandem::launch

namespace tandem::launch {

/// A free port, released at once (another process may take it before it is
/// used): for tools that cannot hold a PortReservation, such as benchmarks.
inline int find_free_port(const std::string& addr = "127.0.0.1") { return PortReservation(addr).port(); }

}  // namespace tandem::launch
