#pragma once
/// Child processes, started the way the launcher starts its workers and the
/// sweep its launches (one implementation for both): fork and exec with only
/// async-signal-safe calls in between; the child dies with this process
/// (PR_SET_PDEATHSIG); its stdout and stderr go to one descriptor; it inherits
/// no other descriptor of ours.
#include <sys/types.h>

#include <csignal>
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

}  // namespace tandem::launch
