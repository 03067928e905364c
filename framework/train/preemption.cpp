#include "framework/train/preemption.h"

#include <signal.h>

#include <atomic>
#include <csignal>

namespace tandem {
namespace {

volatile std::sig_atomic_t g_preempt = 0;
extern "C" void on_preemption_notice(int) { g_preempt = 1; }

}  // namespace

void install_preemption_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_preemption_notice;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGUSR1, &sa, nullptr);
}

bool preemption_requested() { return g_preempt != 0; }

}  // namespace tandem
