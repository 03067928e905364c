// The launcher with real processes (/bin/sh workers).
#include "launch/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "framework/core/error.h"
#include "launch/launch_options.h"
#include "tests/support/multiprocess.h"
#include "tests/support/wait.h"

namespace tandem::launch {
namespace {

using Clock = std::chrono::steady_clock;

WorkerGroupSpec shell(const std::string& script, int nproc, const std::string& logs) {
  WorkerGroupSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.nproc_per_node = nproc;
  spec.logs_dir = logs;
  spec.grace_period_s = 1;
  spec.timeout_s = 60;
  return spec;
}

class Launcher : public ::testing::Test {
 protected:
  void SetUp() override { logs_ = test::make_temp_dir("launch"); }
  void TearDown() override { std::filesystem::remove_all(logs_); }
  std::string logs_;
};

TEST_F(Launcher, SetsTorchrunEnvironmentAndWritesPerRankLogs) {
  auto spec = shell("echo \"r=$RANK lr=$LOCAL_RANK w=$WORLD_SIZE lw=$LOCAL_WORLD_SIZE g=$GROUP_RANK "
                    "a=$MASTER_ADDR p=$MASTER_PORT omp=$OMP_NUM_THREADS x=$EXTRA\"; echo to-stderr >&2",
                    2, logs_);
  spec.env["EXTRA"] = "yes";
  auto result = run_workers(spec);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_FALSE(result.failure.has_value());
  EXPECT_GT(result.master_port, 0) << "a free port was chosen";
  for (int r = 0; r < 2; ++r) {
    const std::string log = test::read_file(std::filesystem::path(logs_) / ("rank" + std::to_string(r) + ".log"));
    const std::string expected = "r=" + std::to_string(r) + " lr=" + std::to_string(r) + " w=2 lw=2 g=0 a=127.0.0.1 p=" +
                                 std::to_string(result.master_port) + " omp=1 x=yes\nto-stderr\n";
    EXPECT_EQ(log, expected);
  }
}

TEST_F(Launcher, AFailingWorkerStopsTheOthersAndIsNamed) {
  const auto start = Clock::now();
  auto result = run_workers(shell("if [ $RANK = 1 ]; then echo 'about to fail'; exit 3; fi; sleep 30", 2, logs_));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_TRUE(result.failure.has_value());
  EXPECT_EQ(result.failure->rank, 1);
  EXPECT_EQ(result.failure->exit_code, 3);
  EXPECT_EQ(result.failure->describe(), "exit code 3");
  ASSERT_FALSE(result.failure->tail.empty());
  EXPECT_EQ(result.failure->tail.back(), "about to fail");
  EXPECT_LT(seconds, 15.0) << "rank 0's sleep was cut short";
}

TEST_F(Launcher, AWorkerKilledByASignalIsReportedAsSuch) {
  auto result = run_workers(shell("if [ $RANK = 0 ]; then kill -9 $$; fi; sleep 30", 2, logs_));
  ASSERT_TRUE(result.failure.has_value());
  EXPECT_EQ(result.failure->rank, 0);
  EXPECT_EQ(result.failure->signal, SIGKILL);
  EXPECT_EQ(result.failure->describe(), "killed by signal 9 (SIGKILL)");
}

TEST_F(Launcher, ATimeoutStopsTheGroup) {
  auto spec = shell("sleep 30", 2, logs_);
  spec.timeout_s = 1;
  const auto start = Clock::now();
  auto result = run_workers(spec);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 10.0);
}

// Rank 1 writes its error file at once, then runs on until it is stopped;
// rank 0 waits for that file (at most 30 s) and fails without one. Rank 0 is
// reaped first, but rank 1 failed first.
TEST_F(Launcher, TheFirstFailureByTimeIsReportedWithItsErrorFileNotTheFirstReaped) {
  auto spec = shell(
      "if [ $RANK = 1 ]; then "
      "  printf '{\"rank\":1,\"type\":\"std::runtime_error\",\"error\":\"disk full\",\"timestamp_us\":%s}' "
      "    $(date +%s%6N) > \"$TORCHELASTIC_ERROR_FILE.tmp\"; mv \"$TORCHELASTIC_ERROR_FILE.tmp\" \"$TORCHELASTIC_ERROR_FILE\"; "
      "  sleep 30; exit 1; "
      "else i=0; while [ ! -e '" + logs_ + "/error_rank1.json' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; "
      "  echo 'peer gone'; exit 4; fi",
      2, logs_);
  testing::internal::CaptureStderr();
  auto result = run_workers(spec);
  const std::string report = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(result.failure.has_value()) << report;
  EXPECT_EQ(result.failure->rank, 1) << report;
  EXPECT_EQ(result.failure->error_message, "disk full");
  EXPECT_EQ(result.failure->later_ranks, std::vector<int>{0}) << report;
  EXPECT_NE(report.find("rank 1's error (" + logs_ + "/error_rank1.json): std::runtime_error: disk full"),
            std::string::npos) << report;
  EXPECT_NE(report.find("rank(s) 0 failed after it"), std::string::npos) << report;
}

TEST_F(Launcher, WithoutAnErrorFileTheReportQuotesTheLogTail) {
  testing::internal::CaptureStderr();
  auto result = run_workers(shell("if [ $RANK = 1 ]; then echo 'last words'; kill -9 $$; fi; sleep 30", 2, logs_));
  const std::string report = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(result.failure.has_value());
  EXPECT_EQ(result.failure->rank, 1);
  EXPECT_TRUE(result.failure->error_message.empty());
  EXPECT_NE(report.find("failed first: killed by signal 9 (SIGKILL)"), std::string::npos) << report;
  EXPECT_NE(report.find("no error file from rank 1; last lines of its output:\n[launch]   last words"),
            std::string::npos) << report;
}

TEST_F(Launcher, EachJobGetsItsOwnStoreTokenAndEachRankItsErrorFile) {
  auto spec = shell("echo \"$TANDEM_STORE_TOKEN $TORCHELASTIC_ERROR_FILE\"", 2, logs_);
  run_workers(spec);
  const std::string first = test::read_file(std::filesystem::path(logs_) / "rank0.log");
  EXPECT_EQ(first, test::read_file(std::filesystem::path(logs_) / "rank1.log").substr(0, 33) + logs_ + "/error_rank0.json\n");
  EXPECT_EQ(first.find(' '), 32u) << first;
  std::filesystem::remove(std::filesystem::path(logs_) / "rank0.log");
  run_workers(spec);
  EXPECT_NE(test::read_file(std::filesystem::path(logs_) / "rank0.log").substr(0, 32), first.substr(0, 32))
      << "a second job has another token";
}

TEST_F(Launcher, PortZeroIsChosenAndHeldUntilTheStoreListens) {
  // The worker binds and listens on the port it was given (as c10d's store
  // does, with SO_REUSEADDR) while the launcher still holds it.
  auto spec = shell("exec /usr/bin/python3 -c \"import socket,os; s=socket.socket(); "
                    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                    "s.bind(('127.0.0.1', int(os.environ['MASTER_PORT']))); s.listen(); print('listening')\"",
                    1, logs_);
  if (std::system("test -x /usr/bin/python3") != 0) GTEST_SKIP() << "no /usr/bin/python3";
  auto result = run_workers(spec);
  EXPECT_EQ(result.exit_code, 0) << test::read_file(std::filesystem::path(logs_) / "rank0.log");
  EXPECT_GT(result.master_port, 0);
  EXPECT_EQ(test::read_file(std::filesystem::path(logs_) / "rank0.log"), "listening\n");
}

// A worker inherits stdin, stdout and stderr only: no descriptor of the
// launcher (gtest's saved stderr here) outlives it in a worker's children.
TEST_F(Launcher, WorkersInheritNoOtherFileDescriptors) {
  testing::internal::CaptureStderr();  // holds a duplicate of stderr open without O_CLOEXEC
  auto result = run_workers(shell("exec ls /proc/self/fd", 1, logs_));
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(test::read_file(std::filesystem::path(logs_) / "rank0.log"), "0\n1\n2\n3\n") << "3 is ls's own directory handle";
}

TEST_F(Launcher, AMissingProgramFails) {
  auto spec = shell("", 1, logs_);
  spec.argv = {"/no/such/program"};
  auto result = run_workers(spec);
  ASSERT_TRUE(result.failure.has_value());
  EXPECT_EQ(result.failure->exit_code, 127);
}

TEST_F(Launcher, OutputWithoutAFinalNewlineIsKept) {
  auto result = run_workers(shell("printf 'no newline'", 1, logs_));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(test::read_file(std::filesystem::path(logs_) / "rank0.log"), "no newline\n");
}

}  // namespace
}  // namespace tandem::launch

namespace tandem::launch {
namespace {

TEST(LauncherSignals, SigtermToTheLauncherReachesEveryWorker) {
  const std::string logs = test::make_temp_dir("launch-signal");
  WorkerGroupSpec spec;
  // Each worker installs its trap, says it is ready, and reports the signal it got.
  spec.argv = {"/bin/sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo ready; sleep 30 & wait"};
  spec.nproc_per_node = 2;
  spec.logs_dir = logs;
  spec.grace_period_s = 5;
  spec.timeout_s = 60;
  auto ready = [&] {
    for (int r = 0; r < 2; ++r) {
      if (test::read_file(std::filesystem::path(logs) / ("rank" + std::to_string(r) + ".log")).find("ready\n") == std::string::npos) {
        return false;
      }
    }
    return true;
  };
  bool sent = false;
  std::thread sender([&] {
    // Both ready: run_workers' handler is in place (it is installed before any
    // worker starts) and so are the workers' traps. Without that, the workers
    // end by themselves after 30 s and the test fails below.
    sent = test::wait_until(ready, 30);
    if (sent) ::kill(::getpid(), SIGTERM);  // caught by run_workers' handler while it runs
  });
  auto result = run_workers(spec);
  sender.join();
  ASSERT_TRUE(sent) << "the workers did not both print ready within 30 s";
  EXPECT_EQ(result.exit_code, 128 + SIGTERM);
  EXPECT_FALSE(result.failure.has_value()) << "a requested stop is not a worker failure";
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(test::read_file(std::filesystem::path(logs) / ("rank" + std::to_string(r) + ".log")), "ready\ngot TERM\n");
  }
  std::filesystem::remove_all(logs);
}

TEST(NprocPerNode, ReadsNumbersCpuGpuAndAutoAsTorchrunDoes) {
  EXPECT_EQ(workers_per_node("3", 8, 0), 3);
  EXPECT_EQ(workers_per_node("cpu", 8, 2), 8);
  EXPECT_EQ(workers_per_node("gpu", 8, 2), 2);
  EXPECT_EQ(workers_per_node("auto", 8, 2), 2);  // GPUs when there are any
  EXPECT_EQ(workers_per_node("auto", 8, 0), 8);  // else the cores
  EXPECT_EQ(workers_per_node("cpu", 4096, 0), 1024);  // the launcher's own limit
  auto message = [](const std::string& value, int gpus) {
    try {
      workers_per_node(value, 8, gpus);
    } catch (const BadInput& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message("many", 0), "--nproc-per-node: expected auto, cpu, gpu or an integer in [1, 1024], got 'many'");
  EXPECT_NE(message("0", 0).find("got '0'"), std::string::npos);
  EXPECT_NE(message("2x", 0).find("got '2x'"), std::string::npos);
  EXPECT_NE(message("1025", 0).find("got '1025'"), std::string::npos);
  EXPECT_EQ(message("gpu", 0).rfind("--nproc-per-node gpu: expected at least one visible GPU, got none", 0), 0u);
  const int cores = usable_cpu_cores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace tandem::launch
