#pragma once
/// Which worker of a failed group failed first, and the report the launcher
/// prints about it. Pure functions of what the launcher observed (exit
/// statuses, reap times, error files read back), so they are tested without
/// processes.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "launch/error_file.h"

namespace tandem::launch {

struct WorkerFailure {
  int rank = -1;
  int pid = 0;
  int exit_code = 0;  ///< when it exited
  int signal = 0;     ///< when a signal killed it
  std::vector<std::string> tail;
  int64_t time_us = 0;            ///< when it failed (Unix epoch, µs): from its error file, else when reaped
  std::string error_type;         ///< from its error file (TORCHELASTIC_ERROR_FILE); empty without one
  std::string error_message;
  std::filesystem::path error_file;
  std::vector<int> later_ranks;   ///< ranks that failed after it, in order
  std::vector<int> stopped_ranks; ///< ranks still running that the launcher stopped (a hang's suspects)
  std::string describe() const;  ///< "exit code 3" / "killed by signal 9 (SIGKILL)"
};

/// "SIGKILL" for 9; the number for a signal without a name.
std::string signal_name(int sig);

/// What the launcher knows of one worker once the group has ended.
struct WorkerOutcome {
  int rank = 0;
  int pid = 0;
  bool exited = false;
  int exit_code = 0;       ///< when it exited
  int signal = 0;          ///< when a signal ended it
  int64_t reaped_us = 0;   ///< wall clock (Unix epoch, µs) when the launcher reaped it
  bool stop_sent = false;  ///< the launcher had signalled it to stop before it ended
  std::filesystem::path error_file;   ///< its TORCHELASTIC_ERROR_FILE; empty: none
  std::optional<ErrorRecord> record;  ///< what that file held, if it was written

  bool failed() const { return exited && (exit_code != 0 || signal != 0); }
};

/// The rank that failed first, by time: the moment its error file says it
/// caught its error, else the moment it was reaped. Ranks the launcher itself
/// stopped count only through an error file. The others that failed are listed
/// after it in later_ranks, in order; ranks the launcher stopped that are
/// neither, in stopped_ranks. Empty when no worker qualifies (then the failure
/// the launcher observed first stands). The tail is left empty.
std::optional<WorkerFailure> first_failure(const std::vector<WorkerOutcome>& workers);

/// One line of the failure report, without the "[launch] " tag: a warning, or
/// a plain line (the quoted log tail), both for stderr.
struct ReportLine {
  bool warning = true;
  std::string text;
};

/// The report on `failure`: which rank failed first, how and when, where its
/// log is (`logs_dir` empty: no logs), its error or else its last lines, and
/// the ranks that failed after it or were stopped.
std::vector<ReportLine> failure_report(const WorkerFailure& failure, const std::filesystem::path& logs_dir);

}  // namespace tandem::launch
