// Where a worker's Gloo listens (framework/dist/endpoint.h): the address that
// routes to MASTER_ADDR, loopback on one host, and refusals for a job over
// several hosts that would advertise loopback.
#include "framework/dist/endpoint.h"

#include <gtest/gtest.h>
#include <netdb.h>
#include <unistd.h>

#include <map>
#include <string>

#include "framework/core/error.h"
#include "framework/dist/store_wire.h"

namespace tandem::dist {
namespace {

/// A world of `hosts` hosts with one worker each, master at `master`.
World world_of(int hosts, const std::string& master) {
  World w;
  w.world_size = hosts;
  w.local_world_size = 1;
  w.rank = hosts - 1;
  w.group_rank = hosts - 1;
  w.master_addr = master;
  w.master_port = 29600;
  return w;
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

std::string bad_input(const World& w, const EnvLookup& env) {
  try {
    choose_endpoint(w, env);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "";
}

TEST(Endpoint, LoopbackAddressesAreKnown) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.0.1.1"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_TRUE(is_loopback_address("::ffff:127.0.1.1"));
  EXPECT_FALSE(is_loopback_address("10.200.0.1"));
  EXPECT_FALSE(is_loopback_address("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_address("fe80::1"));
  EXPECT_FALSE(is_loopback_address("node01"));
}

TEST(Endpoint, AJobOnLoopbackUsesLoopback) {
  const Endpoint e = choose_endpoint(world_of(2, "127.0.0.1"), env_of({}));
  EXPECT_EQ(e.address, "127.0.0.1");
  EXPECT_EQ(e.interface, "lo");
}

TEST(Endpoint, TheAddressThatRoutesToTheMasterIsAConnectedSocketsOwn) {
  // A connected UDP socket sends nothing; toward loopback the kernel answers with a loopback address.
  EXPECT_TRUE(is_loopback_address(local_address_toward("127.0.0.1", 29600)));
  EXPECT_EQ(interface_of("127.0.0.1"), "lo");
  EXPECT_EQ(interface_of("203.0.113.77"), "") << "an address no interface holds";
  EXPECT_THROW(local_address_toward("no-such-host.invalid", 29600), std::runtime_error);
}

TEST(Endpoint, ALoopbackInterfaceNamedForAJobOverSeveralHostsIsRefused) {
  const std::string why = bad_input(world_of(2, "10.200.0.1"), env_of({{"GLOO_SOCKET_IFNAME", "lo"}}));
  EXPECT_NE(why.find("GLOO_SOCKET_IFNAME=lo: expected an interface that the job's other hosts can reach, got a "
                     "loopback interface (127.0.0.1"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("spans 2 hosts"), std::string::npos) << why;
  // On one host loopback is fine, named or not.
  EXPECT_EQ(choose_endpoint(world_of(1, "10.200.0.1"), env_of({{"GLOO_SOCKET_IFNAME", "lo"}})).interface, "lo");
}

TEST(Endpoint, AnInterfaceThatDoesNotExistIsRefusedListingTheOnesThatDo) {
  const std::string why = bad_input(world_of(2, "10.200.0.1"), env_of({{"GLOO_SOCKET_IFNAME", "eth9z"}}));
  EXPECT_NE(why.find("GLOO_SOCKET_IFNAME=eth9z: expected one of this host's network interfaces ("), std::string::npos)
      << why;
  EXPECT_NE(why.find("lo"), std::string::npos) << why;
}

TEST(Endpoint, AMasterThatCannotBeResolvedIsBadInput) {
  const std::string why = bad_input(world_of(2, "no-such-host.invalid"), env_of({}));
  EXPECT_NE(why.find("MASTER_ADDR=no-such-host.invalid: expected an address this host can reach"), std::string::npos)
      << why;
}

// The failure of the issue: a master named by a host name that /etc/hosts
// maps to loopback (this machine's own name, on Debian and in containers).
// Checked where this machine's name does resolve to loopback.
TEST(Endpoint, AMasterNameThatLeadsToLoopbackIsRefusedForAJobOverSeveralHosts) {
  char name[256] = {0};
  ASSERT_EQ(::gethostname(name, sizeof(name) - 1), 0);
  std::string address;
  try {
    address = local_address_toward(name, 29600);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "this machine's name '" << name << "' does not resolve: " << e.what();
  }
  if (!is_loopback_address(address)) {
    GTEST_SKIP() << "this machine's name '" << name << "' leads to " << address << ", not to loopback";
  }
  const std::string why = bad_input(world_of(2, name), env_of({}));
  EXPECT_NE(why.find(std::string("MASTER_ADDR=") + name + " leads to " + address + ", a loopback address, but this "
                     "job spans 2 hosts"),
            std::string::npos)
      << why;
  EXPECT_EQ(choose_endpoint(world_of(1, name), env_of({})).address, address) << "one host: fine";
}

}  // namespace
}  // namespace tandem::dist
