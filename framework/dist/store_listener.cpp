// The store's listening socket (store_listener.h) and the address it binds
// for a MASTER_ADDR (store.h).
#include "framework/dist/store_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <stdexcept>

#include "framework/dist/store.h"
#include "framework/dist/store_wire.h"

namespace tandem::dist {

using namespace wire;

namespace {

/// The first address of `addrs` that binds and listens, or fd -1 with `error`.
Listener listen_on_first(const addrinfo* addrs, bool every_interface, std::string& error) {
  for (const addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      error = errno_text();
      continue;
    }
    const int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6 && every_interface) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      error = errno_text();
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    Listener l;
    l.fd = fd;
    l.port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    l.address = numeric_address(reinterpret_cast<sockaddr*>(&bound));
    return l;
  }
  return {};
}

}  // namespace

Listener listen_on(const std::string& bind_addr, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = bind_addr.empty() ? AF_INET6 : AF_UNSPEC;
  const std::string service = std::to_string(port);
  std::string last_error = "no address";
  for (int attempt = 0; attempt < 2; ++attempt) {
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
    Listener l = listen_on_first(found.list, bind_addr.empty(), last_error);
    if (l.fd >= 0) return l;
  }
  throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", bind_addr.empty() ? "every interface" : bind_addr,
                                       port, last_error));
}

std::string store_bind_address(const std::string& master_addr) {
  if (master_addr == "localhost") return "127.0.0.1";
  in_addr v4{};
  if (::inet_pton(AF_INET, master_addr.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) return master_addr;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, master_addr.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6)) return master_addr;
  return "";
}

}  // namespace tandem::dist
