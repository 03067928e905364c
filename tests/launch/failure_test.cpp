// Failures of a real `tandem launch` job, caused from outside with signals:
// a worker SIGKILLed while the group trains (inside its allreduces), the
// launcher itself SIGKILLed, a worker that hangs (SIGSTOP), strangers on the
// store's port. Each checks how fast the job comes down, what the report says,
// that no process is left behind and that the port is free again.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>

#include "tests/support/multiprocess.h"
#include "tests/support/wait.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using test::wait_until;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string environ_of(pid_t pid) {
  std::string env = test::read_file(fs::path("/proc") / std::to_string(pid) / "environ");
  std::replace(env.begin(), env.end(), '\0', '\n');
  return "\n" + env;
}

/// Processes (other than this one) whose command line mentions `text`.
std::vector<pid_t> processes_mentioning(const std::string& text) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == ::getpid()) continue;
    std::string cmd = test::read_file(e.path() / "cmdline");
    if (cmd.find(text) != std::string::npos && test::read_file(e.path() / "stat").find(") Z") == std::string::npos) {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

/// Whether a store could listen on `port` again (with SO_REUSEADDR, as c10d's does).
bool can_listen_on(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

/// The launcher's own lines, for the test's log.
void print_report(const std::string& out) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[launch]", 0) == 0 && line.find("master port") == std::string::npos) {
      std::cout << "  " << line << "\n";
    }
  }
}

/// `tandem launch` in the background, its output in a file.
struct Job {
  pid_t pid = -1;
  fs::path output;
  int status = -1;

  bool wait(double seconds) {
    return wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, seconds);
  }
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
  std::string text() const { return test::read_file(output); }
  /// The port the launcher reports having chosen ("master port N").
  int port() const {
    std::smatch m;
    const std::string out = text();
    return std::regex_search(out, m, std::regex("master port (\\d+)")) ? std::stoi(m[1]) : 0;
  }
  pid_t worker(int rank) const {
    for (pid_t p : test::children_of(pid)) {
      if (environ_of(p).find("\nRANK=" + std::to_string(rank) + "\n") != std::string::npos) return p;
    }
    return -1;
  }
};

class Failures : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("failures");
    std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/data/corpora/names.txt");
    std::ofstream out(dir_ / "names.txt");
    std::string line;
    for (int i = 0; i < 2000 && std::getline(in, line); ++i) out << line << "\n";
  }
  void TearDown() override {
    for (pid_t p : processes_mentioning(dir_.string())) ::kill(p, SIGKILL);  // never leave a stray job behind
    fs::remove_all(dir_);
  }

  fs::path recipe(int epochs, double timeout_s = 60) {
    const auto path = dir_ / "r.yaml";
    std::ofstream(path) << "model: {type: char_lstm, context: 8, hidden: 32, layers: 2}\n"
                        << "data: {type: names, path: " << (dir_ / "names.txt").string()
                        << ", context: 8, val_fraction: 0.1}\n"
                        << "trainer: {epochs: " << epochs << ", batch_size: 32, log_every: 5, samples_at_end: 0}\n"
                        << "launch: {nproc_per_node: 2, timeout_s: " << timeout_s << "}\n";
    return path;
  }

  Job start(const std::string& args) {
    Job job;
    job.output = dir_ / "launch.out";
    const std::string cmd = std::string("exec ") + TANDEM_EXE + " launch " + args + " --run-dir " +
                            (dir_ / "run").string() + " > " + job.output.string() + " 2>&1";
    job.pid = ::fork();
    if (job.pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return job;
  }

  /// Until both ranks train: rank 0 has logged a step.
  bool training(const Job& job) {
    return wait_until([&] { return test::read_file(dir_ / "run" / "metrics.jsonl").find("\"kind\":\"step\"") != std::string::npos; },
                      60) &&
           job.worker(0) > 0 && job.worker(1) > 0;
  }

  fs::path dir_;
};

TEST_F(Failures, AWorkerKilledInsideTheAllreducesBringsTheJobDownFastAndLeavesNothingBehind) {
  Job job = start(recipe(100).string() + " --master-port 0");
  ASSERT_TRUE(training(job)) << job.text();
  const int port = job.port();
  ASSERT_GT(port, 0) << "--master-port 0 reports the port chosen:\n" << job.text();
  const pid_t victim = job.worker(1);
  const auto killed = Clock::now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_TRUE(job.wait(20)) << "the launcher did not exit within 20 s of the kill\n" << job.text();
  const double seconds = since(killed);
  const std::string out = job.text();
  std::cout << "[ info ] launcher exited " << seconds << " s after rank 1 was killed\n";
  print_report(out);
  EXPECT_LT(seconds, 10.0) << out;
  EXPECT_EQ(job.exit_code(), 1) << out;
  EXPECT_NE(out.find("rank 1 (pid " + std::to_string(victim) + ") failed first: killed by signal 9 (SIGKILL)"),
            std::string::npos) << out;
  EXPECT_TRUE(processes_mentioning(dir_.string()).empty()) << "a worker outlived the launcher";
  EXPECT_TRUE(can_listen_on(port)) << "port " << port << " is still taken";
}

TEST_F(Failures, KillingTheLauncherTakesItsWorkersDown) {
  Job job = start(recipe(100).string());
  ASSERT_TRUE(training(job)) << job.text();
  const pid_t w0 = job.worker(0), w1 = job.worker(1);
  const auto killed = Clock::now();
  ASSERT_EQ(::kill(job.pid, SIGKILL), 0);
  ASSERT_TRUE(job.wait(5));
  EXPECT_TRUE(wait_until([&] { return processes_mentioning(dir_.string()).empty(); }, 5))
      << "workers " << w0 << ", " << w1 << " outlived the launcher (PR_SET_PDEATHSIG)";
  std::cout << "[ info ] workers gone " << since(killed) << " s after the launcher was killed\n";
}

// A worker that stops taking part (SIGSTOP: alive, silent) makes rank 0's
// allreduce time out after launch.timeout_s; the job is down soon after, and
// the report names the rank that was still running, not only rank 0.
TEST_F(Failures, AHangingRankIsNamedAndTheJobComesDownWithinTheTimeoutAndSlack) {
  const double timeout_s = 4;
  Job job = start(recipe(100, timeout_s).string());
  ASSERT_TRUE(training(job)) << job.text();
  const pid_t hung = job.worker(1);
  const auto stopped = Clock::now();
  ASSERT_EQ(::kill(hung, SIGSTOP), 0);
  ASSERT_TRUE(job.wait(timeout_s + 20)) << job.text();
  const double seconds = since(stopped);
  const std::string out = job.text();
  std::cout << "[ info ] job down " << seconds << " s after rank 1 hung (timeout " << timeout_s << " s)\n";
  print_report(out);
  EXPECT_LT(seconds, timeout_s + 8) << out;
  EXPECT_EQ(job.exit_code(), 1) << out;
  EXPECT_NE(out.find("rank 0 (pid"), std::string::npos) << out;
  EXPECT_NE(out.find("rank(s) 1 did not take part: still running when rank 0 timed out"), std::string::npos) << out;
  EXPECT_TRUE(wait_until([&] { return processes_mentioning(dir_.string()).empty(); }, 5));
}

// Strangers on the store's port: connections sending random bytes, and a
// worker of another job (another token). Neither joins; the job finishes.
TEST_F(Failures, StrangersOnTheStorePortNeitherCrashNorJoinTheJob) {
  Job job = start(recipe(3).string() + " --master-port 0");
  ASSERT_TRUE(wait_until([&] { return job.port() > 0; }, 30)) << job.text();
  const int port = job.port();
  std::mt19937 rng(7);
  int sent = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<uint16_t>(port));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
          std::vector<unsigned char> junk(4096);
          for (auto& b : junk) b = static_cast<unsigned char>(rng());
          if (::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL) > 0) ++sent;
        }
        ::close(fd);
        return sent >= 5;
      },
      30))
      << job.text();
  // A single-host job's store listens on loopback only.
  EXPECT_EQ(test::listening_addresses(port), std::vector<std::string>{"0100007F"}) << "127.0.0.1 in /proc/net/tcp";
  auto stranger = test::run_command("RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
                                    " TANDEM_STORE_TOKEN=another-job timeout -k 5 60 " + TANDEM_EXE + " train " +
                                    recipe(3).string() + " --run-dir " + (dir_ / "stranger").string());
  std::cout << "[ info ] the stranger worker said: " << stranger.output;
  EXPECT_EQ(stranger.exit_code, 2) << stranger.output;
  EXPECT_NE(stranger.output.find("belongs to another job"), std::string::npos) << stranger.output;
  // Nothing of a single-host job reaches beyond loopback: neither the store nor Gloo.
  int listening = 0, connected = 0;
  for (int rank : {0, 1}) {
    for (const auto& socket : test::tcp_sockets_of(job.worker(rank))) {
      EXPECT_EQ(socket.local.rfind("0100007F:", 0), 0u) << "rank " << rank << " has a socket on " << socket.local;
      listening += socket.state == "0A";
      connected += socket.state == "01";
    }
  }
  EXPECT_GE(listening, 1) << "rank 0's store at least";
  std::cout << "[ info ] the workers have " << listening << " listening and " << connected
            << " connected TCP socket(s), all on 127.0.0.1\n";
  ASSERT_TRUE(job.wait(120)) << job.text();
  EXPECT_EQ(job.exit_code(), 0) << job.text();
  EXPECT_NE(job.text().find("[launch] done"), std::string::npos) << job.text();
}

}  // namespace
}  // namespace tandem
