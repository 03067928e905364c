#pragma once
/// The store's listening socket: where StoreServer (store.h) listens, and
/// binding it on IPv6 and IPv4 alike. Internal to the store; not installed.
#include <string>

namespace tandem::dist {

/// A bound, listening, non-blocking socket.
struct Listener {
  int fd = -1;
  int port = 0;
  std::string address;  ///< numeric, as bound
};

/// Binds and listens on `bind_addr`:`port` (0: a free port); "" is every
/// interface, IPv6 and IPv4, or IPv4 alone on a host without IPv6.
/// std::runtime_error naming the address and the system's reason otherwise.
Listener listen_on(const std::string& bind_addr, int port);

}  // namespace tandem::dist
