#pragma once
/// WorkerProcess is one worker of the launcher's group, started by
/// spawn_child (child_process.h): its output comes back through a pipe and is
/// passed on line by line.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "launch/child_process.h"

namespace tandem::launch {

/// One worker of the launcher's group. Each complete line of its stdout and
/// stderr is printed as "[rank<k>]: line" on this process's stdout, written to
/// `log` (when open) and kept in a tail of the last `tail_lines` lines.
class WorkerProcess {
 public:
  WorkerProcess() = default;
  /// A child still running is killed (SIGKILL) and reaped: after a throw while
  /// the group starts, no worker outlives the launcher's call.
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  /// Starts `spec` with its output into a pipe of ours (spec.output_fd is
  /// ignored). Throws std::runtime_error when pipe2() or fork() fails.
  void start(ChildSpec spec);

  /// Reads the output that is available and passes complete lines on; at end
  /// of file passes on the unfinished last line too, closes the pipe and returns false.
  bool drain();
  /// After the worker has ended: reads until end of file, or until 200 ms pass
  /// without output (a grandchild of the worker can hold the pipe open).
  void finish_output();
  /// Whether the pipe is still open.
  bool has_output() const { return out_fd_ >= 0; }
  int output_fd() const { return out_fd_; }

  /// waitpid without blocking; true when this call reaped it.
  bool reap();
  void signal(int sig) const;

  bool exited() const { return exited_; }
  int exit_code() const;    ///< when it exited; else 0
  int term_signal() const;  ///< when a signal ended it; else 0
  bool succeeded() const { return exited_ && exit_code() == 0 && term_signal() == 0; }
  int64_t reaped_us() const { return reaped_us_; }  ///< wall clock (Unix epoch, µs) when reaped
  pid_t pid() const { return pid_; }

  int rank = 0;
  std::size_t tail_lines = 20;
  std::ofstream log;
  std::deque<std::string> tail;
  bool stop_sent = false;             ///< the launcher signalled it to stop before it ended
  std::filesystem::path error_file;   ///< its TORCHELASTIC_ERROR_FILE; empty: none

 private:
  void emit_line(const std::string& line);

  pid_t pid_ = -1;
  int out_fd_ = -1;       // read end of the worker's stdout+stderr
  std::string partial_;   // output not yet ended by a newline
  bool exited_ = false;
  int status_ = 0;
  int64_t reaped_us_ = 0;
};

}  // namespace tandem::launch
