// The launcher's signal handlers last exactly as long as run_workers, on every
// path: a scope that ends normally, one left by a throw, and run_workers
// itself when it cannot start a worker.
#include "launch/signal_guard.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <stdexcept>

#include "launch/launcher.h"
#include "launch/store_token.h"

namespace tandem::launch {
namespace {

extern "C" void first_handler(int) {}
extern "C" void second_handler(int) {}

using Handler = void (*)(int);

Handler current(int sig) {
  struct sigaction now {};
  ::sigaction(sig, nullptr, &now);
  return now.sa_handler;
}

/// Installs `handler` for `signals` for the life of the test, restoring after.
class Installed {
 public:
  Installed(std::initializer_list<int> signals, Handler handler) {
    for (int sig : signals) {
      struct sigaction action {}, old {};
      action.sa_handler = handler;
      ::sigaction(sig, &action, &old);
      saved_.emplace_back(sig, old);
    }
  }
  ~Installed() {
    for (auto& [sig, old] : saved_) ::sigaction(sig, &old, nullptr);
  }

 private:
  std::vector<std::pair<int, struct sigaction>> saved_;
};

TEST(ScopedSignalHandler, InstallsForItsScopeAndRestoresAfterwards) {
  const Installed before({SIGUSR2, SIGWINCH}, first_handler);
  {
    const ScopedSignalHandler guard({SIGUSR2, SIGWINCH}, second_handler);
    EXPECT_EQ(current(SIGUSR2), &second_handler);
    EXPECT_EQ(current(SIGWINCH), &second_handler);
  }
  EXPECT_EQ(current(SIGUSR2), &first_handler);
  EXPECT_EQ(current(SIGWINCH), &first_handler);
}

TEST(ScopedSignalHandler, RestoresWhenItsScopeIsLeftByAThrow) {
  const Installed before({SIGUSR2}, first_handler);
  try {
    const ScopedSignalHandler guard({SIGUSR2}, second_handler);
    ASSERT_EQ(current(SIGUSR2), &second_handler);
    throw std::runtime_error("fork(): no more processes");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(current(SIGUSR2), &first_handler);
}

// With no descriptor left (RLIMIT_NOFILE at the lowest free one), the pipe for
// the first worker cannot be made: run_workers throws after installing its
// handlers, and must leave this process's own handlers in place.
TEST(ScopedSignalHandler, RunWorkersRestoresTheHandlersWhenAWorkerCannotStart) {
  const Installed before({SIGINT, SIGTERM, SIGUSR1}, first_handler);
  WorkerGroupSpec spec;
  spec.argv = {"/bin/true"};
  spec.master_port = 29400;                  // no port to reserve: no socket before the pipe
  spec.env[kStoreTokenEnv] = "test-token";   // no /dev/urandom to read
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::string error;
  try {
    run_workers(spec);
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_NE(error.find("pipe()"), std::string::npos) << "expected pipe2() to fail, got: '" << error << "'";
  EXPECT_EQ(current(SIGINT), &first_handler);
  EXPECT_EQ(current(SIGTERM), &first_handler);
  EXPECT_EQ(current(SIGUSR1), &first_handler);
}

}  // namespace
}  // namespace tandem::launch
