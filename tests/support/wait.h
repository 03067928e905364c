#pragma once
/// Bounded polling for tests that wait on other processes: no fixed sleeps.
#include <chrono>
#include <functional>
#include <thread>

namespace tandem::test {

/// Checks `done` every 50 ms until it holds or `seconds` have passed; returns
/// whether it held (checked once more at the deadline).
inline bool wait_until(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace tandem::test
