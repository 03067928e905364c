#include "launch/signal_guard.h"

#include <signal.h>

namespace tandem::launch {

ScopedSignalHandler::ScopedSignalHandler(std::initializer_list<int> signals, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  previous_.reserve(signals.size());
  for (int sig : signals) {
    struct sigaction old {};
    ::sigaction(sig, &action, &old);
    previous_.emplace_back(sig, old);
  }
}

ScopedSignalHandler::~ScopedSignalHandler() {
  for (auto it = previous_.rbegin(); it != previous_.rend(); ++it) ::sigaction(it->first, &it->second, nullptr);
}

}  // namespace tandem::launch
