#include "launch/failure_report.h"

#include <signal.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "framework/core/run_dir.h"

namespace tandem::launch {
namespace {

/// A worker killed by SIGKILL from outside the job (the OOM killer, a user) is
/// noticed only when the launcher reaps it, which can be later than its peers
/// write their own errors about the lost connection; its failure is dated this
/// much before it was reaped.
constexpr int64_t kOutsideKillSlackUs = 500000;

/// How much later a failure of another kind may come and still be taken as the
/// cause of a lost peer connection.
constexpr int64_t kLostPeerWindowUs = 2000000;

struct Candidate {
  int64_t at_us;
  const WorkerOutcome* worker;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool lost_peer(const Candidate& c) {
  if (!c.worker->record) return false;
  const std::string e = lower(c.worker->record->message);
  // "was lost:": a worker of a job over several hosts that stopped because the store told it of a lost member.
  for (const char* sign : {"connection reset by peer", "connection closed by peer", "broken pipe", ") was lost: "}) {
    if (e.find(sign) != std::string::npos) return true;
  }
  return false;
}

/// The failed workers that can be first, each dated, earliest first.
std::vector<Candidate> candidates_by_time(const std::vector<WorkerOutcome>& workers) {
  std::vector<Candidate> out;
  for (const auto& w : workers) {
    if (!w.failed()) continue;
    if (w.record && w.record->timestamp_us > 0) {
      out.push_back({w.record->timestamp_us, &w});
    } else if (!w.stop_sent) {
      const bool outside_kill = w.signal == SIGKILL;
      out.push_back({w.reaped_us - (outside_kill ? kOutsideKillSlackUs : 0), &w});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) { return a.at_us < b.at_us; });
  return out;
}

/// A rank's communicator is torn down while its exception unwinds, before the
/// error is caught and written; a peer can thus record "connection reset" a
/// moment before the rank that caused it. An error that is a lost peer
/// connection therefore yields to a failure of another kind up to 2 s later.
void put_cause_first(std::vector<Candidate>& candidates) {
  if (candidates.empty() || !lost_peer(candidates.front())) return;
  for (std::size_t i = 1; i < candidates.size(); ++i) {
    if (candidates[i].at_us - candidates.front().at_us > kLostPeerWindowUs) break;
    if (!lost_peer(candidates[i])) {
      const auto at = candidates.begin() + static_cast<std::ptrdiff_t>(i);
      std::rotate(candidates.begin(), at, at + 1);
      break;
    }
  }
}

WorkerFailure describe_first(const Candidate& first) {
  const WorkerOutcome& w = *first.worker;
  WorkerFailure f;
  f.rank = w.rank;
  f.pid = w.pid;
  f.signal = w.signal;
  f.exit_code = w.exit_code;
  f.time_us = first.at_us;
  if (w.record) {
    if (w.stop_sent && f.signal != 0) {
      // It had caught its error and was on its way out when the launcher's stop
      // signal reached it: report the exit code it was ending with, not our signal.
      f.signal = 0;
      f.exit_code = w.record->exit_code;
    }
    f.error_type = w.record->type;
    f.error_message = w.record->message;
    f.error_file = w.error_file;
  }
  return f;
}

}  // namespace

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

std::string WorkerFailure::describe() const {
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, signal_name(signal));
  return fmt::format("exit code {}", exit_code);
}

std::optional<WorkerFailure> first_failure(const std::vector<WorkerOutcome>& workers) {
  std::vector<Candidate> candidates = candidates_by_time(workers);
  if (candidates.empty()) return std::nullopt;
  put_cause_first(candidates);
  WorkerFailure failure = describe_first(candidates.front());
  for (std::size_t i = 1; i < candidates.size(); ++i) failure.later_ranks.push_back(candidates[i].worker->rank);
  for (const auto& w : workers) {
    const auto& later = failure.later_ranks;
    const bool listed = w.rank == failure.rank || std::find(later.begin(), later.end(), w.rank) != later.end();
    if (!listed && w.stop_sent) failure.stopped_ranks.push_back(w.rank);
  }
  return failure;
}

std::vector<ReportLine> failure_report(const WorkerFailure& f, const std::filesystem::path& logs_dir) {
  std::vector<ReportLine> out;
  std::string first = fmt::format("rank {} (pid {}) failed first: {}", f.rank, f.pid, f.describe());
  if (f.time_us > 0) first += fmt::format(", at {}", format_utc(f.time_us));
  if (!logs_dir.empty()) first += fmt::format("; log: {}", (logs_dir / rank_log_name(f.rank)).string());
  out.push_back({true, first});
  if (!f.error_message.empty()) {
    out.push_back({true, fmt::format("rank {}'s error ({}): {}: {}", f.rank, f.error_file.string(), f.error_type,
                                     f.error_message)});
  } else if (!f.tail.empty()) {
    // No error file (killed by a signal, or not a Tandem worker): its last words.
    out.push_back({false, fmt::format("no error file from rank {}; last lines of its output:", f.rank)});
    for (const auto& line : f.tail) out.push_back({false, "  " + line});
  }
  if (!f.later_ranks.empty()) {
    out.push_back({true, fmt::format("rank(s) {} failed after it (most likely because of it)",
                                     fmt::join(f.later_ranks, ", "))});
  }
  if (!f.stopped_ranks.empty()) {
    // Gloo's timeout does not say which peer was missing; the ranks still
    // running when the others timed out are the ones that did not take part.
    // ("Application timeout caused pair closure", "Timed out waiting ...", "rendezvous timed out ...")
    const std::string e = lower(f.error_message);
    const bool timed_out = e.find("timeout") != std::string::npos || e.find("timed out") != std::string::npos;
    out.push_back({true, timed_out ? fmt::format("rank(s) {} did not take part: still running when rank {} timed out, "
                                                 "stopped by the launcher",
                                                 fmt::join(f.stopped_ranks, ", "), f.rank)
                                   : fmt::format("rank(s) {} were still running and were stopped by the launcher",
                                                 fmt::join(f.stopped_ranks, ", "))});
  }
  return out;
}

}  // namespace tandem::launch
