// choose_endpoint (endpoint.h): the address a worker's Gloo advertises.
#include "framework/dist/endpoint.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <set>
#include <stdexcept>
#include <vector>

#include "framework/core/error.h"
#include "framework/dist/store.h"
#include "framework/dist/store_wire.h"

namespace tandem::dist {
namespace {

struct LocalInterface {
  std::string name;
  bool loopback = false;
  std::vector<std::string> addresses;
};

std::vector<LocalInterface> local_interfaces() {
  std::vector<LocalInterface> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_name == nullptr) continue;
    LocalInterface* entry = nullptr;
    for (auto& i : out) {
      if (i.name == a->ifa_name) entry = &i;
    }
    if (entry == nullptr) {
      out.push_back({a->ifa_name, (a->ifa_flags & IFF_LOOPBACK) != 0, {}});
      entry = &out.back();
    }
    if (a->ifa_addr != nullptr && (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6)) {
      entry->addresses.push_back(wire::numeric_address(a->ifa_addr));
    }
  }
  ::freeifaddrs(list);
  return out;
}

Endpoint named_interface(const World& world, const std::string& name) {
  const auto interfaces = local_interfaces();
  std::vector<std::string> names;
  for (const auto& i : interfaces) {
    if (i.name != name) {
      names.push_back(i.name);
      continue;
    }
    if (i.loopback && spans_hosts(world)) {
      throw BadInput(fmt::format(
          "GLOO_SOCKET_IFNAME={}: expected an interface that the job's other hosts can reach, got a loopback "
          "interface ({}), while this job spans {} hosts; name the interface on the network between them, or unset "
          "GLOO_SOCKET_IFNAME to use the one that routes to MASTER_ADDR={}",
          name, fmt::join(i.addresses, ", "), world.world_size / world.local_world_size, world.master_addr));
    }
    return {name, "", "GLOO_SOCKET_IFNAME"};
  }
  throw BadInput(fmt::format("GLOO_SOCKET_IFNAME={}: expected one of this host's network interfaces ({}), got {}",
                             name, fmt::join(names, ", "), name));
}

}  // namespace

bool spans_hosts(const World& world) { return world.world_size > world.local_world_size; }

bool is_loopback_address(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

std::string local_address_toward(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICSERV;
  wire::AddrInfo found;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found.list);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  std::string error = "no address";
  for (addrinfo* ai = found.list; ai != nullptr; ai = ai->ai_next) {
    // Connecting a UDP socket sends nothing: the kernel only picks the route, and with it our address.
    const int fd = ::socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    const bool ok = ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0;
    if (!ok) error = wire::errno_text();
    ::close(fd);
    if (ok) return wire::numeric_address(reinterpret_cast<sockaddr*>(&local));
  }
  throw std::runtime_error(fmt::format("no route to {}: {}", host, error));
}

std::string interface_of(const std::string& address) {
  for (const auto& i : local_interfaces()) {
    for (const auto& a : i.addresses) {
      if (a == address) return i.name;
    }
  }
  return "";
}

Endpoint choose_endpoint(const World& world, const EnvLookup& lookup) {
  const EnvLookup env = lookup ? lookup : EnvLookup([](const char* n) { return std::getenv(n); });
  if (const char* name = env("GLOO_SOCKET_IFNAME"); name != nullptr && *name != '\0') {
    return named_interface(world, name);
  }
  if (!store_bind_address(world.master_addr).empty()) {
    return {interface_of("127.0.0.1"), "127.0.0.1", fmt::format("MASTER_ADDR={} is on loopback", world.master_addr)};
  }
  std::string address;
  try {
    address = local_address_toward(world.master_addr, world.master_port);
  } catch (const std::exception& e) {
    throw BadInput(fmt::format("MASTER_ADDR={}: expected an address this host can reach, got one it cannot: {}",
                               world.master_addr, e.what()));
  }
  if (is_loopback_address(address) && spans_hosts(world)) {
    throw BadInput(fmt::format(
        "MASTER_ADDR={} leads to {}, a loopback address, but this job spans {} hosts: the others could not reach "
        "this worker there. Expected MASTER_ADDR to be host 0's address on the network between the hosts (not a "
        "name that /etc/hosts maps to 127.x.x.x), or GLOO_SOCKET_IFNAME to name that network's interface",
        world.master_addr, address, world.world_size / world.local_world_size));
  }
  return {interface_of(address), address, fmt::format("the address that routes to MASTER_ADDR={}", world.master_addr)};
}

}  // namespace tandem::dist
