#pragma once
/// Child processes, started the way the launcher starts its workers and the
/// sweep its launches: fork and exec with only async-signal-safe calls in
/// between; the child dies with this process (PR_SET_PDEATHSIG); its stdout and
/// stderr go to one descriptor; it inherits no other descriptor of ours.
///
/// WorkerProcess is one worker of the launcher's group: its output comes back
/// through a pipe and is passed on line by line.
#include <sys/types.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace tandem::launch {

struct ChildSpec {
  std::vector<std::string> argv;  ///< argv[0] is the program's path (no PATH search)
  std::optional<std::vector<std::string>> env;  ///< "KEY=VALUE" each; none: this process's environment
  int output_fd = -1;             ///< becomes the child's stdout and stderr
  int parent_death_signal = SIGKILL;  ///< what the child gets when this process dies
  bool own_process_group = false;     ///< a terminal's Ctrl-C then reaches only this process
  std::string exec_failure = "cannot execute the program";  ///< on the child's stderr, with the reason, when exec fails
};

/// Starts the child and returns its pid. Throws std::runtime_error when fork()
/// fails; an exec that fails ends the child with exit code 127.
pid_t spawn_child(const ChildSpec& spec);

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
