#include "launch/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>

extern char** environ;

#include "framework/core/log.h"
#include "launch/free_port.h"

namespace tandem::launch {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }
volatile std::sig_atomic_t g_preempt_notice = 0;
extern "C" void on_preempt_notice(int) { g_preempt_notice = 1; }

/// A worker that checkpointed and stopped on a pre-emption notice (kExitPreempted).
constexpr int kPreemptedExit = 75;

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  int out_fd = -1;       // read end of the worker's stdout+stderr
  std::string partial;   // output not yet ended by a newline
  std::deque<std::string> tail;
  std::ofstream log;
  bool exited = false;
  int status = 0;
};

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

void emit_line(Worker& w, const std::string& line, std::size_t tail_lines) {
  std::fprintf(stdout, "[rank%d]: %s\n", w.rank, line.c_str());
  std::fflush(stdout);
  if (w.log.is_open()) w.log << line << '\n' << std::flush;
  w.tail.push_back(line);
  if (w.tail.size() > tail_lines) w.tail.pop_front();
}

/// Reads what is available; returns false at end of file.
bool drain(Worker& w, std::size_t tail_lines) {
  char buf[8192];
  ssize_t n = ::read(w.out_fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) {
    if (!w.partial.empty()) emit_line(w, w.partial, tail_lines);
    w.partial.clear();
    ::close(w.out_fd);
    w.out_fd = -1;
    return false;
  }
  w.partial.append(buf, static_cast<std::size_t>(n));
  std::size_t start = 0, nl;
  while ((nl = w.partial.find('\n', start)) != std::string::npos) {
    emit_line(w, w.partial.substr(start, nl - start), tail_lines);
    start = nl + 1;
  }
  w.partial.erase(0, start);
  return true;
}

/// The environment of one worker: ours, plus torchrun's variables.
std::vector<std::string> worker_environment(const WorkerGroupSpec& spec, int local_rank) {
  const int world = spec.nnodes * spec.nproc_per_node;
  const int rank = spec.node_rank * spec.nproc_per_node + local_rank;
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env.emplace("OMP_NUM_THREADS", "1");  // one BLAS/OpenMP thread per worker unless the user chose otherwise
  for (const auto& [k, v] : spec.env) env[k] = v;
  env["RANK"] = std::to_string(rank);
  env["LOCAL_RANK"] = std::to_string(local_rank);
  env["WORLD_SIZE"] = std::to_string(world);
  env["LOCAL_WORLD_SIZE"] = std::to_string(spec.nproc_per_node);
  env["GROUP_RANK"] = std::to_string(spec.node_rank);
  env["ROLE_RANK"] = std::to_string(rank);
  env["MASTER_ADDR"] = spec.master_addr;
  env["MASTER_PORT"] = std::to_string(spec.master_port);
  env["TANDEM_LAUNCHED"] = "1";
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

/// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_worker(char* const* argv, char* const* envp, int write_fd, pid_t launcher) {
  // The worker dies with the launcher, whatever kills the launcher.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != launcher) ::_exit(127);
  ::setpgid(0, 0);  // its own group: a terminal's Ctrl-C reaches only the launcher, which forwards it
  ::dup2(write_fd, STDOUT_FILENO);
  ::dup2(write_fd, STDERR_FILENO);
  ::close(write_fd);
  ::execve(argv[0], argv, envp);
  static const char msg[] = "[launch] cannot execute the worker program\n";
  (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
  ::_exit(127);
}

}  // namespace

std::string WorkerFailure::describe() const {
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, signal_name(signal));
  return fmt::format("exit code {}", exit_code);
}

LaunchResult run_workers(const WorkerGroupSpec& input) {
  WorkerGroupSpec spec = input;
  if (spec.argv.empty()) throw std::invalid_argument("[launch] no worker command");
  if (spec.master_port == 0) spec.master_port = find_free_port(spec.master_addr);
  LaunchResult result;
  result.master_port = spec.master_port;
  if (!spec.logs_dir.empty()) std::filesystem::create_directories(spec.logs_dir);

  g_stop_signal = 0;
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int{}, old_term{}, old_usr1{};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  g_preempt_notice = 0;
  struct sigaction usr1{};
  usr1.sa_handler = on_preempt_notice;
  ::sigaction(SIGUSR1, &usr1, &old_usr1);

  const auto tail_lines = static_cast<std::size_t>(spec.tail_lines);
  std::vector<Worker> workers(static_cast<std::size_t>(spec.nproc_per_node));
  const pid_t self = ::getpid();
  for (int local = 0; local < spec.nproc_per_node; ++local) {
    Worker& w = workers[local];
    w.rank = spec.node_rank * spec.nproc_per_node + local;
    if (!spec.logs_dir.empty()) w.log.open(spec.logs_dir / fmt::format("rank{}.log", w.rank), std::ios::app);
    std::vector<std::string> env_strings = worker_environment(spec, local);
    std::vector<char*> envp, argv;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = spec.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("[launch] pipe(): " + std::string(std::strerror(errno)));
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("[launch] fork(): " + std::string(std::strerror(errno)));
    if (pid == 0) {
      ::close(fds[0]);
      ::fcntl(fds[1], F_SETFD, 0);  // keep the write end across exec
      exec_worker(argv.data(), envp.data(), fds[1], self);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    w.pid = pid;
    w.out_fd = fds[0];
  }

  std::optional<Clock::time_point> kill_deadline;  // set once we start stopping the group
  auto stop_all = [&](int sig) {
    for (auto& w : workers) {
      if (!w.exited) ::kill(w.pid, sig);
    }
  };
  int stop_signal = 0;
  const auto started = Clock::now();

  while (true) {
    bool open_pipes = false;
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (auto& w : workers) {
      if (w.out_fd >= 0) {
        fds.push_back({w.out_fd, POLLIN, 0});
        owners.push_back(&w);
        open_pipes = true;
      }
    }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 100);
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) drain(*owners[i], tail_lines);
    }

    bool all_exited = true;
    for (auto& w : workers) {
      if (w.exited) continue;
      int status = 0;
      pid_t r = ::waitpid(w.pid, &status, WNOHANG);
      if (r == w.pid) {
        w.exited = true;
        w.status = status;
        const bool preempted_exit = result.preempted && WIFEXITED(status) && WEXITSTATUS(status) == kPreemptedExit;
        const bool ok = (WIFEXITED(status) && WEXITSTATUS(status) == 0) || preempted_exit;
        if (!ok && !result.failure && stop_signal == 0 && !result.timed_out) {
          WorkerFailure f;
          f.rank = w.rank;
          f.pid = w.pid;
          if (WIFSIGNALED(status)) f.signal = WTERMSIG(status);
          if (WIFEXITED(status)) f.exit_code = WEXITSTATUS(status);
          result.failure = f;
          log_warn("launch", "rank {} (pid {}) failed: {}; stopping the other workers", w.rank, w.pid, f.describe());
          stop_all(SIGTERM);
          kill_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(spec.grace_period_s));
        }
      } else {
        all_exited = false;
      }
    }

    if (g_preempt_notice != 0) {
      g_preempt_notice = 0;
      if (!result.preempted) {
        result.preempted = true;
        log_warn("launch", "received SIGUSR1 (pre-emption notice); the workers checkpoint at the next step and stop");
        stop_all(SIGUSR1);
      }
    }
    if (g_stop_signal != 0 && stop_signal == 0) {
      stop_signal = g_stop_signal;
      log_warn("launch", "received {}; passing it on to the workers", signal_name(stop_signal));
      stop_all(stop_signal);
      kill_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(spec.grace_period_s));
    }
    if (spec.timeout_s > 0 && !result.timed_out && !result.failure && stop_signal == 0 &&
        std::chrono::duration<double>(Clock::now() - started).count() > spec.timeout_s) {
      result.timed_out = true;
      log_warn("launch", "the workers did not finish within {} s; stopping them", spec.timeout_s);
      stop_all(SIGTERM);
      kill_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(spec.grace_period_s));
    }
    if (kill_deadline && Clock::now() > *kill_deadline) {
      stop_all(SIGKILL);
      kill_deadline.reset();
    }
    if (all_exited && !open_pipes) break;
    if (all_exited) {
      // Workers are gone; a grandchild may still hold a pipe open. Drain briefly, then stop.
      for (auto& w : workers) {
        if (w.out_fd >= 0) {
          while (drain(w, tail_lines) && w.out_fd >= 0) {
            pollfd p{w.out_fd, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) {
              ::close(w.out_fd);
              w.out_fd = -1;
            }
          }
        }
      }
      break;
    }
  }

  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGUSR1, &old_usr1, nullptr);

  if (result.failure) {
    Worker& w = workers[static_cast<std::size_t>(result.failure->rank - spec.node_rank * spec.nproc_per_node)];
    result.failure->tail.assign(w.tail.begin(), w.tail.end());
    std::string report = fmt::format("rank {} (pid {}) failed with {}", w.rank, w.pid, result.failure->describe());
    if (!spec.logs_dir.empty()) report += fmt::format("; log: {}", (spec.logs_dir / fmt::format("rank{}.log", w.rank)).string());
    log_warn("launch", "{}", report);
    if (!w.tail.empty()) {
      std::fprintf(stderr, "[launch] last lines of rank %d:\n", w.rank);
      for (const auto& line : w.tail) std::fprintf(stderr, "[launch]   %s\n", line.c_str());
    }
    result.exit_code = 1;
  } else if (stop_signal != 0) {
    result.exit_code = 128 + stop_signal;
  } else if (result.preempted) {
    bool all_preempted = true;
    for (const auto& w : workers) all_preempted = all_preempted && WIFEXITED(w.status) && WEXITSTATUS(w.status) == kPreemptedExit;
    result.exit_code = all_preempted ? kPreemptedExit : 0;
  } else if (result.timed_out) {
    result.exit_code = 1;
  }
  return result;
}

}  // namespace tandem::launch
