// Restarting a failed group (launch/restarts.h) with real /bin/sh workers:
// which attempts run, what each one resumes from, where each one logs.
#include "launch/restarts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem::launch {
namespace {

namespace fs = std::filesystem;

class Restarts : public ::testing::Test {
 protected:
  void SetUp() override { logs_ = test::make_temp_dir("restarts"); }
  void TearDown() override { fs::remove_all(logs_); }

  /// Two workers that print their attempt and arguments, and fail (exit 3)
  /// on rank 1 in the attempts before `succeed_from`. (A failed attempt's
  /// rank 0 may be stopped before it prints: read rank 1's log there.)
  WorkerGroupSpec group(int succeed_from) const {
    WorkerGroupSpec spec;
    spec.argv = {"/bin/sh", "-c",
                 "echo \"attempt=$TANDEM_RESTART_COUNT/$TORCHELASTIC_MAX_RESTARTS args=$*\"; "
                 "if [ $RANK = 1 ] && [ $TORCHELASTIC_RESTART_COUNT -lt " + std::to_string(succeed_from) +
                     " ]; then exit 3; fi",
                 "worker"};
    spec.nproc_per_node = 2;
    spec.logs_dir = logs_;
    spec.grace_period_s = 1;
    spec.timeout_s = 60;
    return spec;
  }

  fs::path logs_;
};

TEST_F(Restarts, AFailedGroupRunsAgainFromTheNewestCheckpointWithLogsPerAttempt) {
  RestartPolicy policy;
  policy.max_restarts = 3;
  policy.resume_from = "first.pt";
  int asked = 0;
  policy.newest_checkpoint = [&asked]() -> std::optional<fs::path> {
    ++asked;
    if (asked == 1) return std::nullopt;  // the first failure came before any checkpoint
    return fs::path("step-" + std::to_string(asked) + ".pt");
  };
  const LaunchResult result = run_with_restarts(group(2), policy);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(asked, 2) << "asked once after each of the two failures";
  EXPECT_EQ(test::read_file(logs_ / "attempt_0" / "rank1.log"), "attempt=0/3 args=--resume first.pt\n");
  EXPECT_EQ(test::read_file(logs_ / "attempt_1" / "rank1.log"), "attempt=1/3 args=\n");
  EXPECT_EQ(test::read_file(logs_ / "attempt_2" / "rank0.log"), "attempt=2/3 args=--resume step-2.pt\n");
  EXPECT_FALSE(fs::exists(logs_ / "attempt_3")) << "no attempt after a success";
}

TEST_F(Restarts, TheLastAttemptsFailureIsReturnedOnceTheRestartsAreSpent) {
  RestartPolicy policy;
  policy.max_restarts = 1;
  const LaunchResult result = run_with_restarts(group(5), policy);
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_TRUE(result.failure.has_value());
  EXPECT_EQ(result.failure->rank, 1);
  EXPECT_TRUE(fs::exists(logs_ / "attempt_1" / "rank1.log"));
  EXPECT_FALSE(fs::exists(logs_ / "attempt_2"));
}

TEST_F(Restarts, WithoutRestartsTheGroupRunsOnceAndLogsInPlace) {
  const LaunchResult result = run_with_restarts(group(1), RestartPolicy{});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(test::read_file(logs_ / "rank1.log"), "attempt=0/0 args=\n");
  EXPECT_FALSE(fs::exists(logs_ / "attempt_0"));
}

}  // namespace
}  // namespace tandem::launch
