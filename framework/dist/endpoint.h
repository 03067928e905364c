#pragma once
/// Where a worker's Gloo listens and what it advertises to its peers, chosen
/// before it connects (internal to framework/dist; no LibTorch).
///
/// Without GLOO_SOCKET_IFNAME, Gloo would take the address of the machine's
/// host name, which /etc/hosts often maps to 127.0.0.1 or 127.0.1.1: fine on
/// one host, unreachable from any other. So Tandem picks the address itself:
/// - GLOO_SOCKET_IFNAME set: that interface (it must exist; in a job over
///   several hosts it must not be a loopback interface);
/// - MASTER_ADDR on loopback: 127.0.0.1 (every worker is on this host);
/// - otherwise: the local address that routes to MASTER_ADDR, the one a
///   socket connected to it uses (a connected UDP socket's own address), and
///   in a job over several hosts it must not be a loopback address.
/// A refusal is a BadInput that says what was found and what to set.
#include <string>

#include "framework/dist/world.h"

namespace tandem::dist {

struct Endpoint {
  std::string interface;  ///< the network interface ("vth1"); empty when no interface holds the address
  std::string address;    ///< numeric address for Gloo's device; empty: Gloo takes `interface`
  std::string how;        ///< how it was chosen, for the log line
};

/// Whether the world spans several hosts (more ranks than this host runs).
bool spans_hosts(const World& world);

/// Whether `address` (numeric) is a loopback address: 127.0.0.0/8, ::1, or
/// ::ffff:127.x.x.x.
bool is_loopback_address(const std::string& address);

/// The numeric local address a socket connected to `host`:`port` would use;
/// throws std::runtime_error when `host` does not resolve or has no route.
std::string local_address_toward(const std::string& host, int port);

/// The interface that holds the local `address`; empty when none does.
std::string interface_of(const std::string& address);

/// Chooses the endpoint for `world` as the header says; `lookup` reads the
/// environment (GLOO_SOCKET_IFNAME), std::getenv by default.
Endpoint choose_endpoint(const World& world, const EnvLookup& lookup = nullptr);

}  // namespace tandem::dist
