#include "sweep/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>

#include "framework/core/atomic_file.h"
#include "launch/signal_guard.h"
#include "launch/child_process.h"

namespace tandem::sweep {
namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile pid_t g_child = -1;

extern "C" void on_signal(int sig) {
  g_signal = sig;
  if (g_child > 0) kill(g_child, sig);
}

}  // namespace

PointOutcome run_child(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  PointOutcome outcome;
  const auto start = std::chrono::steady_clock::now();
  const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", log_file.string(), std::strerror(errno)));
  launch::ChildSpec child;
  child.argv = argv;
  child.output_fd = fd;
  child.parent_death_signal = SIGTERM;  // the launcher stops its workers on SIGTERM
  child.exec_failure = "cannot run " + (argv.empty() ? std::string() : argv[0]);
  int status = 0;
  {
    const launch::ScopedSignalHandler forward({SIGINT, SIGTERM}, on_signal);
    g_signal = 0;
    pid_t pid = -1;
    try {
      pid = launch::spawn_child(child);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    g_child = pid;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child = -1;
  }
  outcome.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.signal = g_signal;
  return outcome;
}

void write_status(const std::filesystem::path& dir, const std::string& state, int exit_code, double wall_s) {
  nlohmann::json j{{"state", state}, {"exit_code", exit_code}, {"wall_s", wall_s}};
  write_file_atomically(dir / "status.json", j.dump() + "\n");
}

std::string read_state(const std::filesystem::path& dir) {
  std::ifstream in(dir / "status.json");
  if (!in) return "";
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j.value("state", "failed") : "failed";
}

std::vector<std::string> tail_lines(const std::filesystem::path& file, int lines) {
  std::ifstream in(file);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  return {tail.begin(), tail.end()};
}

}  // namespace tandem::sweep
