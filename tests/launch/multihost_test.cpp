// A job over two hosts for real: two network namespaces (each its own
// network stack, with its own loopback) joined by a veth pair, 10.200.0.1 and
// 10.200.0.2, and `tandem launch` run in each as a user would, with no
// interface named. These machines map their host name to 127.0.0.1 in
// /etc/hosts, as Debian and many containers do, so a worker that advertised
// its host name's address would be unreachable from the other host.
//
// Needs root and iproute2 (`ip netns`, veth; `tc netem` for the lossy link):
// each test skips with the reason when they are missing. Every test makes its
// own namespaces, named after the process and the test, and removes them and
// every process it started even when it fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/multiprocess.h"
#include "tests/support/wait.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::wait_until;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// Runs a shell command quietly; its exit code.
int sh(const std::string& command) { return test::run_command(command + " >/dev/null").exit_code; }

/// Processes (other than this one) whose command line mentions `text`.
std::vector<pid_t> processes_mentioning(const std::string& text) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == ::getpid()) continue;
    const std::string cmd = test::read_file(e.path() / "cmdline");
    if (cmd.find(text) != std::string::npos && test::read_file(e.path() / "stat").find(") Z") == std::string::npos) {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

/// The launcher's own lines and the store's, for the test's log.
void print_report(const std::string& host, const std::string& out) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[launch]", 0) == 0 || line.find("[store]") != std::string::npos) {
      std::cout << "  " << host << " " << line << "\n";
    }
  }
}

/// One `tandem launch` running in a namespace, its output in a file.
struct Launcher {
  pid_t pid = -1;
  fs::path output;
  int status = -1;
  bool ended = false;

  bool wait(double seconds) {
    if (ended) return true;
    ended = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, seconds);
    return ended;
  }
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
  std::string text() const { return test::read_file(output); }
};

/// Two hosts: namespaces NAME-0 and NAME-1, vth0 10.200.0.1/24 in the first,
/// vth1 10.200.0.2/24 in the second, each with its loopback up.
class TwoHosts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make network namespaces (CI runs as root)";
    if (sh("command -v ip && ip netns list") != 0) GTEST_SKIP() << "`ip netns` is unavailable (Debian's iproute2)";
    const std::string test_name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    tag_ = "tnd" + std::to_string(::getpid()) + "-" + test_name.substr(0, 12);
    dir_ = test::make_temp_dir("multihost");
    for (int h = 0; h < 2; ++h) {
      ASSERT_EQ(sh("ip netns add " + ns(h)), 0) << "cannot make network namespace " << ns(h);
      made_ = h + 1;
    }
    const std::string setup = "ip link add vth0 netns " + ns(0) + " type veth peer name vth1 netns " + ns(1) +
                              " && ip -n " + ns(0) + " addr add 10.200.0.1/24 dev vth0 && ip -n " + ns(1) +
                              " addr add 10.200.0.2/24 dev vth1 && ip -n " + ns(0) + " link set lo up && ip -n " +
                              ns(1) + " link set lo up && ip -n " + ns(0) + " link set vth0 up && ip -n " + ns(1) +
                              " link set vth1 up";
    const auto r = test::run_command(setup);
    if (r.exit_code != 0) GTEST_SKIP() << "cannot join two namespaces with a veth pair: " << r.output;
    std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/data/corpora/names.txt");
    std::ofstream out(dir_ / "names.txt");
    std::string line;
    for (int i = 0; i < 800 && std::getline(in, line); ++i) out << line << "\n";
  }

  void TearDown() override {
    for (auto& l : launchers_) {
      if (!l.ended && l.pid > 0) {
        ::kill(l.pid, SIGKILL);
        l.wait(5);
      }
    }
    if (!dir_.empty()) {
      for (pid_t p : processes_mentioning(dir_.string())) ::kill(p, SIGKILL);  // never leave a stray worker behind
    }
    for (int h = 0; h < made_; ++h) sh("ip netns del " + ns(h));  // takes the veth pair with it
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string ns(int host) const { return tag_ + "-" + std::to_string(host); }

  /// A small char_lstm recipe: 1 epoch over 800 names, one worker per host.
  fs::path recipe(const std::string& extra_trainer = "", double timeout_s = 60) {
    const auto path = dir_ / "r.yaml";
    std::ofstream(path) << "model: {type: char_lstm, context: 8, hidden: 32, layers: 1}\n"
                        << "data: {type: names, path: " << (dir_ / "names.txt").string()
                        << ", context: 8, val_fraction: 0.1}\n"
                        << "trainer: {epochs: 1, batch_size: 32, log_every: 5, samples_at_end: 0" << extra_trainer
                        << "}\n"
                        << "launch: {nproc_per_node: 1, timeout_s: " << timeout_s << "}\n";
    return path;
  }

  /// `tandem launch ARGS` as host `host` of 2, in its namespace, with the job's token.
  Launcher& start_host(int host, const std::string& args, const std::string& run_dir, const std::string& env = "") {
    Launcher l;
    l.output = dir_ / ("host" + std::to_string(host) + ".out");
    const std::string cmd = "exec ip netns exec " + ns(host) + " env TANDEM_STORE_TOKEN=" + token_ + " " + env + " " +
                            TANDEM_EXE + " launch " + args + " --nnodes 2 --node-rank " + std::to_string(host) +
                            " --master-addr 10.200.0.1 --master-port 29600 --run-dir " + (dir_ / run_dir).string() +
                            " > " + l.output.string() + " 2>&1";
    l.pid = ::fork();
    if (l.pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    launchers_.push_back(l);
    return launchers_.back();
  }

  /// Both hosts, each with its own run directory (run0, run1).
  void start_both(const std::string& args, const std::string& env = "") {
    start_host(0, args, "run0", env);
    start_host(1, args, "run1", env);
  }

  /// Waits for every launcher (at most `seconds` in all); false if one is still running.
  bool wait_all(double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    for (auto& l : launchers_) {
      if (!l.wait(std::max(0.0, std::chrono::duration<double>(until - Clock::now()).count()))) return false;
    }
    return true;
  }

  std::string outputs() const {
    std::string out;
    for (std::size_t i = 0; i < launchers_.size(); ++i) {
      out += "---- launcher " + std::to_string(i) + " (" + launchers_[i].output.filename().string() + ")\n" +
             launchers_[i].text();
    }
    return out;
  }

  /// Until host 0's rank 0 has logged a training step.
  bool training(const std::string& run_dir = "run0") {
    return wait_until(
        [&] { return test::read_file(dir_ / run_dir / "metrics.jsonl").find("\"kind\":\"step\"") != std::string::npos; },
        90);
  }

  /// The model of a run's newest checkpoint, as safetensors bytes: the parameters, step and epoch.
  std::string final_model(const std::string& run_dir) {
    const fs::path out = dir_ / (run_dir + ".safetensors");
    const auto r = test::run_command(std::string(TANDEM_EXE) + " export --checkpoint " + (dir_ / run_dir).string() +
                                     " --format safetensors --output " + out.string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    // An 8-byte little-endian header length, the JSON header, the tensors' bytes. The header names
    // the checkpoint it came from ("source", padded), which differs between runs: leave that out.
    const std::string bytes = test::read_file(out);
    if (bytes.size() < 8) {
      ADD_FAILURE() << out << " is not a safetensors file";
      return "";
    }
    uint64_t header_size = 0;
    for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
    const std::string header = bytes.substr(8, header_size);
    return std::regex_replace(header, std::regex("\"source\":\"[^\"]*\"| +$"), "") + bytes.substr(8 + header_size);
  }

  /// A one-host job with 2 workers, the reference for the two-host ones.
  std::string reference_model(const fs::path& recipe_path, const std::string& overrides = "") {
    const auto r = test::run_command("timeout -k 5 120 " + std::string(TANDEM_EXE) + " launch " +
                                     recipe_path.string() + " --nproc-per-node 2 " + overrides + " --run-dir " +
                                     (dir_ / "reference").string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return final_model("reference");
  }

  std::string tag_;
  fs::path dir_;
  int made_ = 0;
  std::string token_ = "job-token-7f3a9c1e5b2d4a6f8e0c";
  std::vector<Launcher> launchers_;
};

// The job of the issue: no interface named, host names that map to loopback.
// Each host finds the address that routes to 10.200.0.1 by itself, and the
// result is, bit for bit, that of one host with two workers.
TEST_F(TwoHosts, FindTheirAddressesByThemselvesAndMatchOneHostWithTwoWorkers) {
  const auto r = recipe();
  const auto started = Clock::now();
  start_both(r.string());
  ASSERT_TRUE(wait_all(150)) << "the two-host job did not finish within 150 s\n" << outputs();
  const double seconds = seconds_since(started);
  std::cout << "[ info ] 2 hosts x 1 worker: " << seconds << " s\n";
  ASSERT_EQ(launchers_[0].exit_code(), 0) << outputs();
  ASSERT_EQ(launchers_[1].exit_code(), 0) << outputs();
  EXPECT_NE(launchers_[0].text().find("host 0: Gloo listens on 10.200.0.1 (vth0)"), std::string::npos) << outputs();
  EXPECT_NE(launchers_[1].text().find("host 1: Gloo listens on 10.200.0.2 (vth1)"), std::string::npos) << outputs();
  const std::string two_hosts = final_model("run0");
  ASSERT_FALSE(two_hosts.empty());
  EXPECT_TRUE(two_hosts == reference_model(r)) << "2 hosts x 1 worker must end where 1 host x 2 workers ends";
}

// A job of several hosts that would advertise loopback is refused before
// anything trains, with what was found and what to set.
TEST_F(TwoHosts, AJobThatWouldAdvertiseLoopbackIsRefusedBeforeTraining) {
  const auto r = recipe();
  // The interface named by hand is loopback: the other host could never reach it.
  start_both(r.string(), "GLOO_SOCKET_IFNAME=lo");
  ASSERT_TRUE(wait_all(60)) << outputs();
  const std::string out = outputs();
  EXPECT_EQ(launchers_[0].exit_code(), 1) << out;
  EXPECT_EQ(launchers_[1].exit_code(), 1) << out;
  EXPECT_NE(out.find("GLOO_SOCKET_IFNAME=lo: expected an interface that the job's other hosts can reach, got a "
                     "loopback interface"),
            std::string::npos)
      << out;
  EXPECT_EQ(test::read_file(dir_ / "run0" / "metrics.jsonl").find("\"kind\":\"step\""), std::string::npos) << out;
}

// Host 1's launcher is killed (SIGKILL) mid-epoch: its worker dies with it,
// host 0 hears of it through the store and comes down in seconds, naming host
// 1 and its rank, and leaves no process behind.
TEST_F(TwoHosts, KillingHost1sLauncherBringsHost0DownInSecondsNamingHost1) {
  start_both(recipe(", checkpoint_every: 1000").string() + " trainer.epochs=20");
  ASSERT_TRUE(training()) << outputs();
  const auto killed = Clock::now();
  ASSERT_EQ(::kill(launchers_[1].pid, SIGKILL), 0);
  ASSERT_TRUE(launchers_[0].wait(30)) << "host 0 did not come down within 30 s\n" << outputs();
  const double seconds = seconds_since(killed);
  std::cout << "[ info ] host 0's launcher exited " << seconds << " s after host 1's launcher was killed\n";
  const std::string out = launchers_[0].text();
  print_report("host 0", out);
  EXPECT_LT(seconds, 10.0) << out;
  EXPECT_NE(launchers_[0].exit_code(), 0) << out;
  EXPECT_NE(out.find("host 1 (rank 1) was lost"), std::string::npos) << out;
  launchers_[1].wait(5);
  EXPECT_TRUE(wait_until([&] { return processes_mentioning(dir_.string()).empty(); }, 5)) << "a worker was left behind";
}

// With --max-restarts 1 on both hosts and one run directory that both see (a
// shared file system), host 1's worker is killed mid-epoch: host 0 hears of it
// and stops, both launchers restart their groups from the newest checkpoint,
// and the job ends bit for bit where an uninterrupted one ends.
TEST_F(TwoHosts, BothHostsRestartTogetherFromTheNewestCheckpointAndEndBitForBit) {
  const auto r = recipe(", checkpoint_every: 10");
  const std::string args = r.string() + " trainer.epochs=3 --max-restarts 1";
  start_host(0, args, "run");
  start_host(1, args, "run");
  ASSERT_TRUE(wait_until([&] { return test::read_file(dir_ / "run" / "metrics.jsonl").find("\"global_step\":20,") !=
                                      std::string::npos; },
                         90))
      << outputs();
  const auto workers = test::children_of(launchers_[1].pid);
  ASSERT_EQ(workers.size(), 1u) << "host 1's launcher runs one worker";
  const auto killed = Clock::now();
  ASSERT_EQ(::kill(workers[0], SIGKILL), 0);
  ASSERT_TRUE(wait_all(150)) << outputs();
  std::cout << "[ info ] both hosts restarted and finished " << seconds_since(killed) << " s after the kill\n";
  const std::string out = outputs();
  print_report("host 0", launchers_[0].text());
  print_report("host 1", launchers_[1].text());
  ASSERT_EQ(launchers_[0].exit_code(), 0) << out;
  ASSERT_EQ(launchers_[1].exit_code(), 0) << out;
  EXPECT_NE(launchers_[0].text().find("host 1 (rank 1) was lost"), std::string::npos) << out;
  EXPECT_NE(launchers_[0].text().find("restart 1/1"), std::string::npos) << out;
  EXPECT_NE(launchers_[1].text().find("restart 1/1"), std::string::npos) << out;
  EXPECT_TRUE(final_model("run") == reference_model(r, "trainer.epochs=3"))
      << "the restarted job must end where an uninterrupted one ends";
}

/// `tandem train` as rank `rank` of 2, one per host, started by hand (as srun
/// would) in host `rank`'s namespace; its output in a file.
pid_t start_worker(const std::string& ns, int rank, const std::string& args, const fs::path& output) {
  const std::string cmd = "exec ip netns exec " + ns + " env RANK=" + std::to_string(rank) +
                          " WORLD_SIZE=2 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 GROUP_RANK=" + std::to_string(rank) +
                          " MASTER_ADDR=10.200.0.1 MASTER_PORT=29600 OMP_NUM_THREADS=1 " + TANDEM_EXE + " train " + args +
                          " > " + output.string() + " 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Each host's launcher picks the newest checkpoint when its own group stops,
// so two hosts can pick different ones (host 0's rank 0 still writing a newer
// one). Here rank 1 is handed an older checkpoint than rank 0: it takes rank
// 0's, says so, and the job ends bit for bit where an uninterrupted one ends.
TEST_F(TwoHosts, RanksHandedDifferentCheckpointsResumeFromRank0s) {
  const auto r = recipe(", max_steps: 30, checkpoint_every: 10, keep_checkpoints: 5");
  const std::string reference = reference_model(r);
  const fs::path checkpoints = dir_ / "reference" / "checkpoints";
  ASSERT_TRUE(fs::exists(checkpoints / "step-000000010.pt") && fs::exists(checkpoints / "step-000000020.pt"));
  const std::string run = " --run-dir " + (dir_ / "resumed").string() + " --resume ";
  const pid_t w0 = start_worker(ns(0), 0, r.string() + run + (checkpoints / "step-000000020.pt").string(),
                                dir_ / "rank0.out");
  const pid_t w1 = start_worker(ns(1), 1, r.string() + run + (checkpoints / "step-000000010.pt").string(),
                                dir_ / "rank1.out");
  int status0 = -1, status1 = -1;
  const bool ended = wait_until([&] { return ::waitpid(w0, &status0, WNOHANG) == w0; }, 120) &&
                     wait_until([&] { return ::waitpid(w1, &status1, WNOHANG) == w1; }, 30);
  const std::string out = "---- rank 0\n" + test::read_file(dir_ / "rank0.out") + "---- rank 1\n" +
                          test::read_file(dir_ / "rank1.out");
  if (!ended) {
    ::kill(w0, SIGKILL);
    ::kill(w1, SIGKILL);
    ::waitpid(w0, nullptr, 0);
    ::waitpid(w1, nullptr, 0);
  }
  ASSERT_TRUE(ended) << out;
  ASSERT_TRUE(WIFEXITED(status0) && WEXITSTATUS(status0) == 0) << out;
  ASSERT_TRUE(WIFEXITED(status1) && WEXITSTATUS(status1) == 0) << out;
  EXPECT_NE(out.find("rank 1 resumes as rank 0 does, from " + (checkpoints / "step-000000020.pt").string() +
                     " (this host had chosen " + (checkpoints / "step-000000010.pt").string() + ")"),
            std::string::npos)
      << out;
  EXPECT_TRUE(final_model("resumed") == reference) << "resumed from step 20 on both ranks, the job ends where it "
                                                      "ended uninterrupted";
}

// The link is cut in the middle of training (both ends of the veth pair
// down: no packet passes, no connection is closed). Every host comes down
// within launch.timeout_s + 10 s and names what it lost.
TEST_F(TwoHosts, ACutLinkBringsEveryHostDownNamingWhatWasLost) {
  const double timeout_s = 8;
  start_both(recipe(", checkpoint_every: 1000", timeout_s).string() + " trainer.epochs=20");
  ASSERT_TRUE(training()) << outputs();
  const auto cut = Clock::now();
  ASSERT_EQ(sh("ip -n " + ns(0) + " link set vth0 down && ip -n " + ns(1) + " link set vth1 down"), 0);
  std::vector<double> down(2, -1);
  for (int h = 0; h < 2; ++h) {
    ASSERT_TRUE(launchers_[h].wait(timeout_s + 30 - seconds_since(cut)))
        << "host " << h << " still runs " << seconds_since(cut) << " s after the cut\n" << outputs();
    down[h] = seconds_since(cut);
  }
  std::cout << "[ info ] after the cut: host 0 down in " << down[0] << " s, host 1 in " << down[1]
            << " s (launch.timeout_s " << timeout_s << ")\n";
  const std::string out = outputs();
  print_report("host 0", launchers_[0].text());
  print_report("host 1", launchers_[1].text());
  for (int h = 0; h < 2; ++h) {
    EXPECT_LT(down[h], timeout_s + 10) << out;
    EXPECT_NE(launchers_[h].exit_code(), 0) << out;
  }
  EXPECT_NE(launchers_[0].text().find("host 1 (rank 1) was lost"), std::string::npos) << out;
  EXPECT_NE(launchers_[1].text().find("host 0 (rank 0, whose store is at 10.200.0.1:29600) was lost"),
            std::string::npos)
      << out;
  EXPECT_TRUE(wait_until([&] { return processes_mentioning(dir_.string()).empty(); }, 5)) << "a worker was left behind";
}

// 50 ms more latency and 1 % loss each way (tc netem): slower, the same result.
TEST_F(TwoHosts, ALinkWithLatencyAndLossStillGivesTheSameResult) {
  const std::string netem = "tc -n " + ns(0) + " qdisc add dev vth0 root netem delay 50ms loss 1% && tc -n " + ns(1) +
                            " qdisc add dev vth1 root netem delay 50ms loss 1%";
  const auto q = test::run_command("(" + netem + ")");
  if (q.exit_code != 0) GTEST_SKIP() << "this kernel has no netem qdisc (`" << netem << "` said: " << q.output << ")";
  // Fewer steps: every step's allreduce now crosses a 100 ms round trip.
  const auto r = recipe(", max_steps: 20");
  const auto started = Clock::now();
  start_both(r.string());
  ASSERT_TRUE(wait_all(240)) << "the job did not finish within 240 s over the lossy link\n" << outputs();
  std::cout << "[ info ] 2 hosts over 50 ms + 1 % loss: " << seconds_since(started) << " s\n";
  ASSERT_EQ(launchers_[0].exit_code(), 0) << outputs();
  ASSERT_EQ(launchers_[1].exit_code(), 0) << outputs();
  EXPECT_TRUE(final_model("run0") == reference_model(r)) << "the lossy link changed the result";
}

/// Captures every frame on host `host`'s interfaces, from a child that enters
/// the namespace, until it is sent SIGTERM; the bytes go to `file`.
pid_t start_capture(const std::string& ns, const fs::path& file) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) ::_exit(3);
  const int raw = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (raw < 0) ::_exit(4);
  std::ofstream out(file, std::ios::binary);
  out << "ready\n" << std::flush;
  std::vector<char> frame(65536);
  const auto until = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < until) {
    pollfd p{raw, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(raw, frame.data(), frame.size(), 0);
    if (n > 0) out.write(frame.data(), n) << std::flush;
  }
  ::_exit(0);
}

/// A store client that dials 10.200.0.1:29600 from host 1 with `token`: the
/// `tandem` worker itself, run as rank 1 of a world of 2 (the rendezvous only).
test::CommandResult dial_store_from_host1(const std::string& ns1, const std::string& token, const fs::path& recipe_path) {
  return test::run_command("timeout -k 2 30 ip netns exec " + ns1 + " env RANK=1 WORLD_SIZE=2 LOCAL_RANK=0 " +
                           "LOCAL_WORLD_SIZE=1 GROUP_RANK=1 MASTER_ADDR=10.200.0.1 MASTER_PORT=29600 " +
                           "TANDEM_STORE_TOKEN=" + token + " " + TANDEM_EXE + " train " + recipe_path.string() +
                           " launch.timeout_s=10");
}

// The store's traffic, captured on host 0 while the two hosts rendezvous and
// train, never holds the token (the store admits by challenge and response),
// while it does hold the store's own protocol name, so the capture saw it; and
// a client from the other host with another token is refused.
TEST_F(TwoHosts, TheTokenNeverCrossesTheWireAndAClientWithoutItIsRefused) {
  const fs::path capture = dir_ / "capture.bin";
  const pid_t capturer = start_capture(ns(0), capture);
  ASSERT_TRUE(wait_until([&] { return test::read_file(capture).rfind("ready", 0) == 0; }, 10))
      << "the raw socket in " << ns(0) << " did not open";
  const auto r = recipe(", max_steps: 10");
  start_host(0, r.string(), "run0");
  // A stranger on host 1, with another token, while host 0 waits for its peer.
  const auto stranger = dial_store_from_host1(ns(1), "not-the-job-token", r);
  start_host(1, r.string(), "run1");
  ASSERT_TRUE(wait_all(120)) << outputs();
  ::kill(capturer, SIGKILL);
  ::waitpid(capturer, nullptr, 0);
  ASSERT_EQ(launchers_[0].exit_code(), 0) << outputs();
  ASSERT_EQ(launchers_[1].exit_code(), 0) << outputs();
  const std::string bytes = test::read_file(capture);
  std::cout << "[ info ] captured " << bytes.size() << " bytes on host 0's interfaces\n";
  EXPECT_NE(bytes.find("tandem-store/2"), std::string::npos) << "the capture did not see the store's traffic";
  EXPECT_EQ(bytes.find(token_), std::string::npos) << "the token crossed the wire";
  EXPECT_EQ(stranger.exit_code, 2) << stranger.output;
  EXPECT_NE(stranger.output.find("belongs to another job"), std::string::npos) << stranger.output;
  EXPECT_NE(launchers_[0].text().find("10.200.0.2: its TANDEM_STORE_TOKEN is not this job's"),
            std::string::npos)
      << outputs();
}

}  // namespace
}  // namespace tandem
