// Tandem's rendezvous store (framework/dist/store.h): c10d's semantics over a
// real TCP server, the token, strangers, and where it listens.
#include "framework/dist/store.h"
#include "framework/dist/membership.h"
#include "framework/dist/store_wire.h"
#include "tests/support/multiprocess.h"
#include "tests/support/wait.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <csignal>
#include <iostream>
#include <mutex>
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

namespace tandem::dist {
namespace {

// Membership (membership.h): a worker whose connection closes without
// leaving is lost; every other member hears who, first; pending waits end
// with it; a newcomer of the next attempt is turned away until a new store.
TEST(Membership, AMemberGoneWithoutLeavingIsNamedToTheOthersAndEndsPendingWaits) {
  StoreServer server("127.0.0.1", 0, "tok");
  std::mutex mutex;
  std::string heard;
  auto on_lost = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    if (heard.empty()) heard = what;
  };
  Membership rank0("127.0.0.1", server.port(), "tok", 0, 0, 5s, on_lost);
  auto rank1 = std::make_unique<Membership>("127.0.0.1", server.port(), "tok", 1, 1, 5s, on_lost);
  StoreClient waiter("127.0.0.1", server.port(), "tok", 5s);
  std::string wait_error;
  std::thread waiting([&] {
    try {
      waiter.wait({"never"}, 30s);
    } catch (const std::exception& e) {
      wait_error = e.what();
    }
  });
  std::this_thread::sleep_for(100ms);
  const auto gone = Clock::now();
  rank1.reset();  // closed without leave(): as if its process had died
  const auto lost = rank0.lost(3s);
  const double seconds = seconds_since(gone);
  waiting.join();
  ASSERT_TRUE(lost.has_value()) << "rank 0 never heard of the loss";
  std::cout << "[ info ] rank 0 heard of rank 1's loss " << seconds << " s after it\n";
  EXPECT_LT(seconds, 1.5);
  EXPECT_NE(lost->find("host 1 (rank 1) was lost: its connection to the store closed"), std::string::npos) << *lost;
  const auto heard_now = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return heard;
  };
  EXPECT_TRUE(test::wait_until([&] { return !heard_now().empty(); }, 2)) << "on_lost was not called";
  EXPECT_EQ(heard_now(), *lost) << "on_lost is called with the same sentence";
  EXPECT_NE(wait_error.find("host 1 (rank 1) was lost"), std::string::npos) << wait_error;
  // The job is ending: a newcomer with the right token is not admitted (it waits for the next store).
  try {
    StoreClient late("127.0.0.1", server.port(), "tok", 300ms);
    FAIL() << "a newcomer was admitted to a store whose job lost a member";
  } catch (const StoreRefused&) {
    FAIL() << "not a refusal: the token is right";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ending its job"), std::string::npos) << e.what();
  }
}

TEST(Membership, MembersThatLeaveAreNoLossAndRank0sStoreWaitsForThemToLeave) {
  auto server = std::make_unique<StoreServer>("127.0.0.1", 0, "tok");
  bool lost_called = false;
  auto on_lost = [&](const std::string&) { lost_called = true; };
  auto rank0 = std::make_unique<Membership>("127.0.0.1", server->port(), "tok", 0, 0, 5s, on_lost);
  auto rank1 = std::make_unique<Membership>("127.0.0.1", server->port(), "tok", 1, 1, 5s, on_lost);
  std::this_thread::sleep_for(1200ms);  // a few beats each
  rank0->leave();
  rank0.reset();
  std::thread finish([&] {
    std::this_thread::sleep_for(400ms);
    rank1->leave();
    rank1.reset();
  });
  const auto stopping = Clock::now();
  server.reset();  // rank 0 finished: its store waits for rank 1 to leave
  const double waited = seconds_since(stopping);
  finish.join();
  EXPECT_GE(waited, 0.3) << "the store went away while rank 1 was still a member";
  EXPECT_LT(waited, 5.0);
  EXPECT_FALSE(lost_called);
}

// The store's process dies (SIGKILL): its members name host 0 within a beat or two.
TEST(Membership, AMemberThatLosesTheStoreNamesHost0) {
  int port_pipe[2];
  ASSERT_EQ(::pipe(port_pipe), 0);
  const pid_t host0 = ::fork();
  if (host0 == 0) {
    StoreServer server("127.0.0.1", 0, "tok");
    const int port = server.port();
    if (::write(port_pipe[1], &port, sizeof(port)) != sizeof(port)) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  int port = 0;
  ASSERT_EQ(::read(port_pipe[0], &port, sizeof(port)), static_cast<ssize_t>(sizeof(port)));
  Membership rank1("127.0.0.1", port, "tok", 1, 1, 5s, nullptr);
  std::this_thread::sleep_for(100ms);
  const auto killed = Clock::now();
  ::kill(host0, SIGKILL);
  ::waitpid(host0, nullptr, 0);
  const auto lost = rank1.lost(3s);
  ASSERT_TRUE(lost.has_value()) << "rank 1 never noticed that the store was gone";
  std::cout << "[ info ] rank 1 noticed the store's loss " << seconds_since(killed) << " s after the kill\n";
  EXPECT_NE(lost->find("host 0 (rank 0, whose store is at 127.0.0.1:" + std::to_string(port) + ") was lost"),
            std::string::npos)
      << *lost;
  ::close(port_pipe[0]);
  ::close(port_pipe[1]);
}

TEST(Admission, TheTokenIsProvenNotSentAndProofsAreFreshEveryTime) {
  using namespace wire;
  const std::string sn(32, 's'), cn(32, 'c');
  const std::string proof = client_proof("token-1", sn, cn);
  EXPECT_EQ(proof.size(), 32u) << "HMAC-SHA256";
  EXPECT_EQ(proof.find("token-1"), std::string::npos);
  EXPECT_NE(proof, client_proof("token-2", sn, cn)) << "another token, another proof";
  EXPECT_NE(proof, client_proof("token-1", std::string(32, 't'), cn)) << "another challenge, another proof";
  EXPECT_NE(proof, server_proof("token-1", sn, cn)) << "the server's proof is not the client's";
  EXPECT_NE(fresh_nonce(), fresh_nonce());
  EXPECT_EQ(client_proof("", sn, cn).size(), 32u) << "a job without a token still proves it";
  // Known answer: HMAC-SHA256(key "token-1", "tandem-store/2 client " + sn + cn), from Python's hmac module.
  std::string hex;
  for (unsigned char c : proof) hex += fmt::format("{:02x}", c);
  EXPECT_EQ(hex, "453e563865291ca4c7cc2d3e9f6ca1b93821d558f8f4fcb50009416080e16ed8");
}

}  // namespace
}  // namespace tandem::dist
