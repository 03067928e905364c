// Tandem's rendezvous store (framework/dist/store.h): c10d's semantics over a
// real TCP server, the token, strangers, and where it listens.
#include "framework/dist/store.h"
#include "tests/support/multiprocess.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

namespace tandem::dist {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Bytes b(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string s(const Bytes& v) { return std::string(v.begin(), v.end()); }
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// A raw TCP connection to 127.0.0.1:port, or -1.
int raw_connect(int port, const char* addr = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, addr, &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(Store, BindAddressIsLoopbackForASingleHostJobAndEveryInterfaceOtherwise) {
  EXPECT_EQ(store_bind_address("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(store_bind_address("127.0.1.1"), "127.0.1.1");
  EXPECT_EQ(store_bind_address("localhost"), "127.0.0.1");
  EXPECT_EQ(store_bind_address("::1"), "::1");
  EXPECT_EQ(store_bind_address("10.1.2.3"), "");
  EXPECT_EQ(store_bind_address("node01"), "");
}

TEST(Store, KeepsC10dSemantics) {
  StoreServer server("127.0.0.1", 0, "tok");
  StoreClient a("127.0.0.1", server.port(), "tok", 5s);
  StoreClient c("127.0.0.1", server.port(), "tok", 5s);
  a.set("k", b("v1"));
  EXPECT_EQ(s(c.get("k", 1s)), "v1");
  a.set("k", b(std::string("\0bin\xff", 5)));
  EXPECT_EQ(c.get("k", 1s), b(std::string("\0bin\xff", 5)));
  EXPECT_EQ(a.add("n", 5), 5);
  EXPECT_EQ(c.add("n", -7), -2);
  EXPECT_EQ(s(a.get("n", 1s)), "-2") << "add keeps decimal text, as c10d does";
  // compareSet: absent key with an empty expectation sets; with another expectation returns it.
  EXPECT_EQ(s(a.compare_set("cs", b(""), b("first"))), "first");
  EXPECT_EQ(s(a.compare_set("absent", b("x"), b("y"))), "x");
  EXPECT_FALSE(a.check({"absent"}));
  EXPECT_EQ(s(a.compare_set("cs", b("wrong"), b("second"))), "first");
  EXPECT_EQ(s(a.compare_set("cs", b("first"), b("second"))), "second");
  a.append("log", b("ab"));
  a.append("log", b("cd"));
  EXPECT_EQ(s(c.get("log", 1s)), "abcd");
  EXPECT_TRUE(c.check({"k", "n", "cs", "log"}));
  EXPECT_FALSE(c.check({"k", "nope"}));
  EXPECT_EQ(a.num_keys(), 4);
  EXPECT_TRUE(a.erase("k"));
  EXPECT_FALSE(a.erase("k"));
  EXPECT_EQ(c.num_keys(), 3);
  EXPECT_EQ(server.stats().admitted, 2);
}

TEST(Store, WaitWakesWhenAnotherClientSetsTheKeysAndTimesOutNamingTheMissingOnes) {
  StoreServer server("127.0.0.1", 0, "");
  StoreClient waiter("127.0.0.1", server.port(), "", 5s);
  StoreClient setter("127.0.0.1", server.port(), "", 5s);
  std::thread later([&] {
    std::this_thread::sleep_for(200ms);
    setter.set("a", b("1"));
    setter.set("b", b("2"));
  });
  waiter.wait({"a", "b"}, 10s);  // woken: a timeout would throw
  EXPECT_EQ(s(waiter.get("b", 1s)), "2");
  later.join();

  const auto t0 = Clock::now();
  try {
    waiter.wait({"a", "x", "y"}, 300ms);
    FAIL() << "expected a timeout";
  } catch (const StoreTimeout& e) {
    EXPECT_EQ(e.missing(), (std::vector<std::string>{"x", "y"}));
    EXPECT_NE(std::string(e.what()).find("key(s) x, y"), std::string::npos) << e.what();
  }
  EXPECT_GE(seconds_since(t0), 0.29) << "the server kept the wait's time";
  // The connection is still in step after a timeout.
  EXPECT_EQ(s(waiter.get("a", 1s)), "1");
  EXPECT_THROW(waiter.get("never", 200ms), StoreTimeout);
}

TEST(Store, AClientRetriesUntilTheServerListensAndGivesUpAfterItsTimeout) {
  int port = 0;
  {
    StoreServer probe("127.0.0.1", 0, "");
    port = probe.port();
  }
  std::unique_ptr<StoreServer> server;
  std::thread late([&] {
    std::this_thread::sleep_for(300ms);
    server = std::make_unique<StoreServer>("127.0.0.1", port, "t");
  });
  StoreClient client("127.0.0.1", port, "t", 10s);
  client.set("x", b("1"));
  late.join();
  EXPECT_EQ(server->stats().admitted, 1);

  const int free_port = [] {
    StoreServer probe("127.0.0.1", 0, "");
    return probe.port();
  }();
  const auto start = Clock::now();
  EXPECT_THROW(StoreClient("127.0.0.1", free_port, "t", 400ms), std::runtime_error);
  EXPECT_GE(seconds_since(start), 0.39) << "it retried until its timeout";
  EXPECT_LT(seconds_since(start), 30.0) << "and then gave up";
}

TEST(Store, AWrongTokenIsRefusedAtOnceAndTouchesNothing) {
  StoreServer server("127.0.0.1", 0, "job-a");
  StoreClient member("127.0.0.1", server.port(), "job-a", 5s);
  member.set("k", b("v"));
  // Refused, not timed out: StoreRefused, where a timeout would be a plain runtime_error.
  EXPECT_THROW(StoreClient("127.0.0.1", server.port(), "job-b", 5s), StoreRefused);
  EXPECT_THROW(StoreClient("127.0.0.1", server.port(), "", 5s), StoreRefused);
  EXPECT_THROW(StoreClient("127.0.0.1", server.port(), "job-a-longer", 5s), StoreRefused);
  EXPECT_EQ(server.stats().refused_token, 3);
  EXPECT_EQ(member.num_keys(), 1);
  EXPECT_EQ(s(member.get("k", 1s)), "v");
}

TEST(Store, StrangersSendingGarbageAreDroppedWhileMembersAreServed) {
  StoreServer server("127.0.0.1", 0, "tok");
  StoreClient member("127.0.0.1", server.port(), "tok", 5s);
  std::mt19937 rng(11);
  int garbage = 0;
  for (int i = 0; i < 20; ++i) {
    const int fd = raw_connect(server.port());
    ASSERT_GE(fd, 0);
    std::string junk(1 + rng() % 8192, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    if (i % 4 == 0) junk = std::string("\xff\xff\xff\xff", 4);  // a header announcing 4 billion parts
    if (i % 4 == 1) junk = std::string("\x01\x00\x00\x00\xff\xff\xff\x7f", 8);  // one 2 GiB part
    if (i % 4 == 2) junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_GT(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL), 0);
    ++garbage;
    // The server hangs up (or waits for more of a message that cannot be a greeting).
    member.set("alive" + std::to_string(i), b("1"));
    ::close(fd);
  }
  // A valid frame that is not a greeting, from a stranger.
  {
    const int fd = raw_connect(server.port());
    const std::string frame("\x01\x00\x00\x00\x03\x00\x00\x00num", 11);
    ASSERT_GT(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL), 0);
    char byte;
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0) << "closed without an answer";
    ::close(fd);
  }
  EXPECT_EQ(member.num_keys(), 20);
  EXPECT_GE(server.stats().refused_protocol, 10) << "the oversized headers and the non-greeting at least";
  EXPECT_EQ(server.stats().admitted, 1);
}

TEST(Store, ASingleHostStoreListensOnLoopbackOnly) {
  StoreServer server(store_bind_address("127.0.0.1"), 0, "");
  EXPECT_EQ(server.bound_address(), "127.0.0.1");
  EXPECT_EQ(test::listening_addresses(server.port()), std::vector<std::string>{"0100007F"}) << "127.0.0.1 in /proc/net/tcp";
  // Any other address of this host does not reach it.
  ifaddrs* list = nullptr;
  ASSERT_EQ(::getifaddrs(&list), 0);
  int tried = 0;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof(text));
    if (std::string(text).rfind("127.", 0) == 0) continue;
    const int fd = raw_connect(server.port(), text);
    EXPECT_LT(fd, 0) << "reached the store through " << text;
    if (fd >= 0) ::close(fd);
    ++tried;
  }
  ::freeifaddrs(list);
  std::cout << "[ info ] tried " << tried << " non-loopback address(es) of this host\n";
}

TEST(Store, AMultiHostStoreListensOnEveryInterface) {
  StoreServer server(store_bind_address("node01"), 0, "");
  EXPECT_TRUE(server.bound_address() == "::" || server.bound_address() == "0.0.0.0") << server.bound_address();
  StoreClient client("127.0.0.1", server.port(), "", 5s);  // IPv4 reaches the dual-stack socket
  client.set("k", b("v"));
  EXPECT_EQ(client.num_keys(), 1);
}

TEST(Store, AClientWaitingWhenTheServerGoesAwayFailsAtOnce) {
  auto server = std::make_unique<StoreServer>("127.0.0.1", 0, "");
  StoreClient client("127.0.0.1", server->port(), "", 5s);
  std::thread stop([&] {
    std::this_thread::sleep_for(200ms);
    server.reset();
  });
  try {
    client.wait({"never"}, 30s);
    FAIL() << "expected an error";
  } catch (const StoreTimeout&) {
    FAIL() << "not a timeout: the server went away";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("closed the connection"), std::string::npos) << e.what();
  }
  stop.join();
  EXPECT_THROW(client.set("k", b("v")), std::runtime_error) << "the connection stays lost";
}

}  // namespace
}  // namespace tandem::dist
