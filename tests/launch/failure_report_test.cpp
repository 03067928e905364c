// Which rank failed first and what the launcher says about it, from made-up
// outcomes: no processes.
#include "launch/failure_report.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace tandem::launch {
namespace {

constexpr int64_t kT0 = 1700000000000000;  // µs since the epoch: 2023-11-14T22:13:20Z

WorkerOutcome ok(int rank) {
  WorkerOutcome w;
  w.rank = rank;
  w.pid = 1000 + rank;
  w.exited = true;
  w.reaped_us = kT0 + 5000000;
  return w;
}

WorkerOutcome exited(int rank, int code, int64_t reaped_us) {
  WorkerOutcome w = ok(rank);
  w.exit_code = code;
  w.reaped_us = reaped_us;
  return w;
}

WorkerOutcome killed(int rank, int sig, int64_t reaped_us, bool stop_sent = false) {
  WorkerOutcome w = ok(rank);
  w.signal = sig;
  w.reaped_us = reaped_us;
  w.stop_sent = stop_sent;
  return w;
}

WorkerOutcome with_error(WorkerOutcome w, const std::string& message, int64_t at_us, int exit_code = 1) {
  ErrorRecord r;
  r.rank = w.rank;
  r.type = "std::runtime_error";
  r.message = message;
  r.timestamp_us = at_us;
  r.exit_code = exit_code;
  w.record = r;
  w.error_file = "logs/error_rank" + std::to_string(w.rank) + ".json";
  return w;
}

TEST(FirstFailure, AnErrorFileDatesAFailureBeforeAnEarlierReap) {
  // Rank 0 is reaped first (at +1 s); rank 1 caught its error at +0.5 s and was reaped at +2 s.
  const auto f = first_failure({exited(0, 4, kT0 + 1000000), with_error(exited(1, 1, kT0 + 2000000), "disk full", kT0 + 500000)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 1);
  EXPECT_EQ(f->pid, 1001);
  EXPECT_EQ(f->time_us, kT0 + 500000);
  EXPECT_EQ(f->error_message, "disk full");
  EXPECT_EQ(f->error_type, "std::runtime_error");
  EXPECT_EQ(f->error_file, "logs/error_rank1.json");
  EXPECT_EQ(f->later_ranks, std::vector<int>{0});
  EXPECT_TRUE(f->stopped_ranks.empty());
}

TEST(FirstFailure, ASigkillFromOutsideIsDatedHalfASecondBeforeItsReap) {
  // Rank 0 killed from outside, reaped at +1.4 s: dated +0.9 s, before rank 1's +1.0 s reap.
  auto f = first_failure({killed(0, SIGKILL, kT0 + 1400000), exited(1, 3, kT0 + 1000000)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 0);
  EXPECT_EQ(f->signal, SIGKILL);
  EXPECT_EQ(f->time_us, kT0 + 900000);
  EXPECT_EQ(f->describe(), "killed by signal 9 (SIGKILL)");
  // Another signal gets no such slack.
  f = first_failure({killed(0, SIGSEGV, kT0 + 1400000), exited(1, 3, kT0 + 1000000)});
  EXPECT_EQ(f->rank, 1);
  EXPECT_EQ(f->describe(), "exit code 3");
  EXPECT_EQ(f->later_ranks, std::vector<int>{0});
}

TEST(FirstFailure, RanksTheLauncherStoppedCountOnlyThroughAnErrorFile) {
  const auto f = first_failure({exited(0, 2, kT0 + 3000000), killed(1, SIGTERM, kT0 + 1000000, /*stop_sent=*/true),
                                killed(2, SIGTERM, kT0 + 1000000, /*stop_sent=*/true), ok(3)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 0);
  EXPECT_TRUE(f->later_ranks.empty());
  EXPECT_EQ(f->stopped_ranks, (std::vector<int>{1, 2}));
}

TEST(FirstFailure, AStoppedRankThatHadCaughtItsErrorReportsItsOwnExitCode) {
  const auto f = first_failure({with_error(killed(0, SIGTERM, kT0 + 2000000, true), "NaN loss", kT0 + 100000, 7),
                                exited(1, 1, kT0 + 1000000)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 0);
  EXPECT_EQ(f->signal, 0);
  EXPECT_EQ(f->exit_code, 7);
  EXPECT_EQ(f->describe(), "exit code 7");
}

TEST(FirstFailure, ALostPeerConnectionYieldsToAnotherKindOfFailureWithinTwoSeconds) {
  const auto peer = with_error(exited(0, 1, kT0 + 3000000), "Connection reset by peer", kT0);
  auto f = first_failure({peer, with_error(exited(1, 1, kT0 + 3000000), "out of memory", kT0 + 1900000)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 1);
  EXPECT_EQ(f->later_ranks, std::vector<int>{0});
  // Later than 2 s: the lost connection stays first.
  f = first_failure({peer, with_error(exited(1, 1, kT0 + 3000000), "out of memory", kT0 + 2100000)});
  EXPECT_EQ(f->rank, 0);
  // Another lost connection does not take its place.
  f = first_failure({peer, with_error(exited(1, 1, kT0 + 3000000), "Broken pipe", kT0 + 100000)});
  EXPECT_EQ(f->rank, 0);
}

// A worker of a job over several hosts that stopped because the store told it
// of a lost member is a lost peer too: a local rank's own failure comes first.
TEST(FirstFailure, AWorkerStoppedByTheNewsOfALostMemberYieldsLikeALostConnection) {
  const auto told = with_error(exited(0, 1, kT0 + 3000000),
                               "[dist] rank 0 stops: host 1 (rank 1) was lost: its connection to the store closed", kT0);
  auto f = first_failure({told, with_error(exited(1, 1, kT0 + 3000000), "out of memory", kT0 + 500000)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 1);
  // Alone (the lost member was on another host), it is the one reported.
  f = first_failure({told, ok(1)});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->rank, 0);
}

TEST(FirstFailure, NoneWhenNoWorkerQualifies) {
  EXPECT_FALSE(first_failure({ok(0), ok(1)}).has_value());
  EXPECT_FALSE(first_failure({killed(0, SIGTERM, kT0, true), ok(1)}).has_value());
  WorkerOutcome running = ok(2);
  running.exited = false;
  running.exit_code = 1;
  EXPECT_FALSE(first_failure({running}).has_value());
}

std::vector<std::string> texts(const std::vector<ReportLine>& lines, bool warning) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.warning == warning) out.push_back(l.text);
  }
  return out;
}

TEST(FailureReport, NamesTheRankItsTimeLogErrorAndTheRanksAfterIt) {
  WorkerFailure f;
  f.rank = 1;
  f.pid = 4242;
  f.exit_code = 1;
  f.time_us = kT0 + 250000;
  f.error_type = "std::runtime_error";
  f.error_message = "disk full";
  f.error_file = "/l/error_rank1.json";
  f.later_ranks = {0, 3};
  f.tail = {"not quoted: the error file says it"};
  const auto lines = failure_report(f, "/l");
  EXPECT_EQ(texts(lines, true),
            (std::vector<std::string>{
                "rank 1 (pid 4242) failed first: exit code 1, at 2023-11-14T22:13:20.250Z; log: /l/rank1.log",
                "rank 1's error (/l/error_rank1.json): std::runtime_error: disk full",
                "rank(s) 0, 3 failed after it (most likely because of it)"}));
  EXPECT_TRUE(texts(lines, false).empty());
}

TEST(FailureReport, WithoutAnErrorFileQuotesTheTailAndNamesTheStoppedRanks) {
  WorkerFailure f;
  f.rank = 0;
  f.pid = 7;
  f.signal = SIGKILL;
  f.tail = {"step 10", "last words"};
  f.stopped_ranks = {1, 2};
  const auto lines = failure_report(f, "");
  EXPECT_EQ(texts(lines, true), (std::vector<std::string>{
                                    "rank 0 (pid 7) failed first: killed by signal 9 (SIGKILL)",
                                    "rank(s) 1, 2 were still running and were stopped by the launcher"}));
  EXPECT_EQ(texts(lines, false), (std::vector<std::string>{"no error file from rank 0; last lines of its output:",
                                                           "  step 10", "  last words"}));
}

TEST(FailureReport, AfterATimeoutTheStoppedRanksAreTheOnesThatDidNotTakePart) {
  WorkerFailure f;
  f.rank = 2;
  f.pid = 9;
  f.exit_code = 1;
  f.error_type = "c10::Error";
  f.error_message = "Application TIMEOUT caused pair closure";
  f.stopped_ranks = {3};
  const auto lines = texts(failure_report(f, ""), true);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "rank(s) 3 did not take part: still running when rank 2 timed out, stopped by the launcher");
}

}  // namespace
}  // namespace tandem::launch
