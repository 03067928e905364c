#pragma once
/// Signal handlers for the length of a scope: the launcher's (SIGINT/SIGTERM
/// to stop, SIGUSR1 for a pre-emption notice) and the sweep's (SIGINT/SIGTERM
/// passed on to its child). The previous handlers come back when the guard goes
/// out of scope, on every path: a throw from pipe2() or fork() included.
#include <csignal>
#include <initializer_list>
#include <utility>
#include <vector>

namespace tandem::launch {

class ScopedSignalHandler {
 public:
  /// Installs `handler` (no SA_RESTART, nothing blocked while it runs) for
  /// each of `signals`, remembering the handlers it replaces.
  ScopedSignalHandler(std::initializer_list<int> signals, void (*handler)(int));
  /// Puts the previous handlers back, in reverse order.
  ~ScopedSignalHandler();
  ScopedSignalHandler(const ScopedSignalHandler&) = delete;
  ScopedSignalHandler& operator=(const ScopedSignalHandler&) = delete;

 private:
  std::vector<std::pair<int, struct sigaction>> previous_;
};

}  // namespace tandem::launch
