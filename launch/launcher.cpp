#include "launch/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>

extern char** environ;

#include "framework/core/log.h"
#include "launch/error_file.h"
#include "launch/free_port.h"
#include "launch/store_token.h"

namespace tandem::launch {
namespace {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(WallClock::now().time_since_epoch()).count();
}

/// A worker killed by SIGKILL from outside the job (the OOM killer, a user) is
/// noticed only when the launcher reaps it, which can be later than its peers
/// write their own errors about the lost connection; its failure is dated this
/// much before it was reaped.
constexpr int64_t kOutsideKillSlackUs = 500000;

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
  int64_t reaped_us = 0;          // wall clock when the launcher reaped it
  bool stop_sent = false;         // the launcher had signalled it to stop before it ended
  std::filesystem::path error_file;  // TORCHELASTIC_ERROR_FILE; empty: none
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
std::vector<std::string> worker_environment(const WorkerGroupSpec& spec, int local_rank,
                                            const std::filesystem::path& error_file) {
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
  if (!error_file.empty()) env[kErrorFileEnv] = error_file.string();
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
  // Nothing else of the launcher's leaks into the worker (and, through it, into
  // processes that outlive it): only stdin, stdout and stderr, as close_fds does.
  ::close_range(3, ~0U, 0);
  ::execve(argv[0], argv, envp);
  static const char msg[] = "[launch] cannot execute the worker program\n";
  (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
  ::_exit(127);
}

void describe_status(int status, WorkerFailure& f) {
  f.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
}

bool failed(const Worker& w) { return w.exited && !(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0); }

/// The rank that failed first, by time: the moment its error file says it
/// caught its error, else the moment it was reaped. Ranks the launcher itself
/// stopped count only through an error file written before that. The others
/// that failed are listed after it, in order.
void pick_first_failure(std::vector<Worker>& workers, WorkerFailure& failure) {
  struct Candidate {
    int64_t at_us;
    Worker* w;
    std::optional<ErrorRecord> record;
  };
  std::vector<Candidate> candidates;
  for (auto& w : workers) {
    if (!failed(w)) continue;
    std::optional<ErrorRecord> record;
    if (!w.error_file.empty()) record = read_error_file(w.error_file);
    if (record && record->timestamp_us > 0) {
      candidates.push_back({record->timestamp_us, &w, record});
    } else if (!w.stop_sent) {
      const bool outside_kill = WIFSIGNALED(w.status) && WTERMSIG(w.status) == SIGKILL;
      candidates.push_back({w.reaped_us - (outside_kill ? kOutsideKillSlackUs : 0), &w, record});
    }
  }
  if (candidates.empty()) return;  // keep the one observed first
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.at_us < b.at_us; });
  // A rank's communicator is torn down while its exception unwinds, before
  // the error is caught and written; a peer can thus record "connection reset"
  // a moment before the rank that caused it. An error that is a lost peer
  // connection therefore yields to a failure of another kind up to 2 s later.
  auto lost_peer = [](const Candidate& c) {
    if (!c.record) return false;
    std::string e = c.record->message;
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (const char* sign : {"connection reset by peer", "connection closed by peer", "broken pipe"}) {
      if (e.find(sign) != std::string::npos) return true;
    }
    return false;
  };
  if (lost_peer(candidates.front())) {
    for (std::size_t i = 1; i < candidates.size(); ++i) {
      if (candidates[i].at_us - candidates.front().at_us > 2000000) break;
      if (!lost_peer(candidates[i])) {
        std::rotate(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(i),
                    candidates.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        break;
      }
    }
  }
  const Candidate& first = candidates.front();
  failure = WorkerFailure{};
  failure.rank = first.w->rank;
  failure.pid = first.w->pid;
  describe_status(first.w->status, failure);
  failure.time_us = first.at_us;
  if (first.record && first.w->stop_sent && failure.signal != 0) {
    // It had caught its error and was on its way out when the launcher's stop
    // signal reached it: report the exit code it was ending with, not our signal.
    failure.signal = 0;
    failure.exit_code = first.record->exit_code;
  }
  if (first.record) {
    failure.error_type = first.record->type;
    failure.error_message = first.record->message;
    failure.error_file = first.w->error_file;
  }
  for (std::size_t i = 1; i < candidates.size(); ++i) failure.later_ranks.push_back(candidates[i].w->rank);
  for (const auto& w : workers) {
    const bool listed = w.rank == failure.rank ||
                        std::find(failure.later_ranks.begin(), failure.later_ranks.end(), w.rank) != failure.later_ranks.end();
    if (!listed && w.stop_sent) failure.stopped_ranks.push_back(w.rank);
  }
}

void report_failure(const WorkerGroupSpec& spec, std::vector<Worker>& workers, WorkerFailure& failure) {
  Worker& w = workers[static_cast<std::size_t>(failure.rank - spec.node_rank * spec.nproc_per_node)];
  failure.tail.assign(w.tail.begin(), w.tail.end());
  std::string report = fmt::format("rank {} (pid {}) failed first: {}", w.rank, w.pid, failure.describe());
  if (failure.time_us > 0) report += fmt::format(", at {}", format_utc(failure.time_us));
  if (!spec.logs_dir.empty()) report += fmt::format("; log: {}", (spec.logs_dir / fmt::format("rank{}.log", w.rank)).string());
  log_warn("launch", "{}", report);
  if (!failure.error_message.empty()) {
    log_warn("launch", "rank {}'s error ({}): {}: {}", w.rank, failure.error_file.string(), failure.error_type,
             failure.error_message);
  } else if (!w.tail.empty()) {
    // No error file (killed by a signal, or not a Tandem worker): its last words.
    std::fprintf(stderr, "[launch] no error file from rank %d; last lines of its output:\n", w.rank);
    for (const auto& line : w.tail) std::fprintf(stderr, "[launch]   %s\n", line.c_str());
  }
  if (!failure.later_ranks.empty()) {
    std::string later;
    for (int r : failure.later_ranks) later += (later.empty() ? "" : ", ") + std::to_string(r);
    log_warn("launch", "rank(s) {} failed after it (most likely because of it)", later);
  }
  if (!failure.stopped_ranks.empty()) {
    std::string stopped;
    for (int r : failure.stopped_ranks) stopped += (stopped.empty() ? "" : ", ") + std::to_string(r);
    // Gloo's timeout does not say which peer was missing; the ranks still
    // running when the others timed out are the ones that did not take part.
    // ("Application timeout caused pair closure", "Timed out waiting ...", "rendezvous timed out ...")
    std::string e = failure.error_message;
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (e.find("timeout") != std::string::npos || e.find("timed out") != std::string::npos) {
      log_warn("launch", "rank(s) {} did not take part: still running when rank {} timed out, stopped by the launcher",
               stopped, failure.rank);
    } else {
      log_warn("launch", "rank(s) {} were still running and were stopped by the launcher", stopped);
    }
  }
}

}  // namespace

std::string WorkerFailure::describe() const {
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, signal_name(signal));
  return fmt::format("exit code {}", exit_code);
}

LaunchResult run_workers(const WorkerGroupSpec& input) {
  WorkerGroupSpec spec = input;
  if (spec.argv.empty()) throw std::invalid_argument("[launch] no worker command");
  // Port 0: the kernel picks one, and it stays reserved until rank 0's store
  // listens on it (free_port.h), so no other process can take it in between.
  PortReservation reserved;
  if (spec.master_port == 0) {
    reserved = PortReservation(spec.master_addr);
    spec.master_port = reserved.port();
    log_info("launch", "master port {} (chosen by the kernel, held until rank 0's store listens)", spec.master_port);
  }
  // One token per job keeps other jobs' workers out of this job's store
  // (store_token.h). Several hosts must share one: the user sets it on each.
  if (spec.env.count(kStoreTokenEnv) == 0 && std::getenv(kStoreTokenEnv) == nullptr && spec.nnodes == 1) {
    spec.env[kStoreTokenEnv] = make_store_token();
  }
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
    if (!spec.logs_dir.empty()) {
      w.log.open(spec.logs_dir / fmt::format("rank{}.log", w.rank), std::ios::app);
      w.error_file = spec.logs_dir / fmt::format("error_rank{}.json", w.rank);
      std::error_code ec;
      std::filesystem::remove(w.error_file, ec);  // from an earlier run in this directory
    }
    std::vector<std::string> env_strings = worker_environment(spec, local, w.error_file);
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
      if (!w.exited) {
        ::kill(w.pid, sig);
        if (sig != SIGUSR1) {
          w.stop_sent = true;
          ::kill(w.pid, SIGCONT);  // a stopped (hung, SIGSTOPped) worker must act on it now
        }
      }
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
        w.reaped_us = wall_now_us();
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

    // Rank 0's store listens: the reserved port can go (rank 0 holds it now).
    if (reserved.held() && (workers.empty() || workers[0].exited || spec.node_rank != 0 ||
                            is_listening(spec.master_addr, spec.master_port, 50))) {
      reserved.release();
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
    pick_first_failure(workers, *result.failure);
    report_failure(spec, workers, *result.failure);
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
