#pragma once
/// Running the `tandem` command under test (TANDEM_EXE, set for every test
/// binary by tests/CMakeLists.txt) from end-to-end tests.
#include <string>

#include "tests/support/multiprocess.h"

#ifndef TANDEM_EXE
#error "TANDEM_EXE names the tandem binary; tandem_test() in tests/CMakeLists.txt defines it"
#endif

namespace tandem::test {

/// Runs `tandem ARGS` through /bin/sh, killed after `timeout_s` (then SIGKILL
/// 5 s later); stdout and stderr together in the result.
inline CommandResult tandem(const std::string& args, int timeout_s = 240) {
  return run_command("timeout -k 5 " + std::to_string(timeout_s) + " " + std::string(TANDEM_EXE) + " " + args);
}

}  // namespace tandem::test
