#include "launch/launcher.h"

#include <poll.h>
#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>

extern char** environ;

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/run_dir.h"
#include "launch/error_file.h"
#include "launch/free_port.h"
#include "launch/signal_guard.h"
#include "launch/store_token.h"
#include "launch/worker_process.h"

namespace tandem::launch {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }
volatile std::sig_atomic_t g_preempt_notice = 0;
extern "C" void on_preempt_notice(int) { g_preempt_notice = 1; }

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

/// Port 0: the kernel picks one, and it stays reserved until rank 0's store
/// listens on it (free_port.h), so no other process can take it in between.
PortReservation reserve_master_port(WorkerGroupSpec& spec) {
  if (spec.master_port != 0) return {};
  PortReservation reserved(spec.master_addr);
  spec.master_port = reserved.port();
  log_info("launch", "master port {} (chosen by the kernel, held until rank 0's store listens)", spec.master_port);
  return reserved;
}

/// One token per job keeps other jobs' workers out of this job's store
/// (store_token.h). Several hosts must share one: the user sets it on each.
void give_store_token(WorkerGroupSpec& spec) {
  if (spec.env.count(kStoreTokenEnv) == 0 && std::getenv(kStoreTokenEnv) == nullptr && spec.nnodes == 1) {
    spec.env[kStoreTokenEnv] = make_store_token();
  }
}

void start_worker(const WorkerGroupSpec& spec, int local, WorkerProcess& w) {
  w.rank = spec.node_rank * spec.nproc_per_node + local;
  w.tail_lines = static_cast<std::size_t>(spec.tail_lines);
  if (!spec.logs_dir.empty()) {
    w.log.open(spec.logs_dir / rank_log_name(w.rank), std::ios::app);
    w.error_file = spec.logs_dir / fmt::format("error_rank{}.json", w.rank);
    std::error_code ec;
    std::filesystem::remove(w.error_file, ec);  // from an earlier run in this directory
  }
  ChildSpec child;
  child.argv = spec.argv;
  child.env = worker_environment(spec, local, w.error_file);
  child.parent_death_signal = SIGKILL;
  child.own_process_group = true;  // a terminal's Ctrl-C reaches only the launcher, which forwards it
  child.exec_failure = "[launch] cannot execute the worker program";
  w.start(std::move(child));
}

WorkerOutcome outcome_of(const WorkerProcess& w) {
  WorkerOutcome o;
  o.rank = w.rank;
  o.pid = w.pid();
  o.exited = w.exited();
  o.exit_code = w.exit_code();
  o.signal = w.term_signal();
  o.reaped_us = w.reaped_us();
  o.stop_sent = w.stop_sent;
  o.error_file = w.error_file;
  if (o.failed() && !w.error_file.empty()) o.record = read_error_file(w.error_file);
  return o;
}

/// The group from its start to the end of its last worker: the poll loop
/// that passes output on, reaps workers, and stops the group on a failure, a
/// signal or the time limit.
class GroupWatch {
 public:
  GroupWatch(const WorkerGroupSpec& spec, std::vector<WorkerProcess>& workers, PortReservation& reserved,
             LaunchResult& result)
      : spec_(spec), workers_(workers), reserved_(reserved), result_(result) {}

  /// Returns once every worker has ended and its output is passed on.
  void run();
  /// The request to stop that the group got (SIGINT, SIGTERM), or 0.
  int stop_signal() const { return stop_signal_; }

 private:
  bool pass_output_on();
  bool reap_workers();
  void on_ended(const WorkerProcess& w);
  void release_port_once_listening();
  void act_on_signals();
  void check_time_limit();
  void stop_all(int sig);
  void stop_all_then_kill(int sig);

  const WorkerGroupSpec& spec_;
  std::vector<WorkerProcess>& workers_;
  PortReservation& reserved_;
  LaunchResult& result_;
  int stop_signal_ = 0;
  std::optional<Clock::time_point> kill_deadline_;  // set once we start stopping the group
  const Clock::time_point started_ = Clock::now();
};

void GroupWatch::run() {
  while (true) {
    const bool open_pipes = pass_output_on();
    const bool all_exited = reap_workers();
    release_port_once_listening();
    act_on_signals();
    check_time_limit();
    if (kill_deadline_ && Clock::now() > *kill_deadline_) {
      stop_all(SIGKILL);
      kill_deadline_.reset();
    }
    if (all_exited) {
      // Workers are gone; a grandchild may still hold a pipe open. Drain briefly, then stop.
      if (open_pipes) {
        for (auto& w : workers_) w.finish_output();
      }
      return;
    }
  }
}

/// Waits up to 100 ms for output and passes on what came; whether any pipe was open.
bool GroupWatch::pass_output_on() {
  std::vector<pollfd> fds;
  std::vector<WorkerProcess*> owners;
  for (auto& w : workers_) {
    if (w.has_output()) {
      fds.push_back({w.output_fd(), POLLIN, 0});
      owners.push_back(&w);
    }
  }
  // Without a pipe to wait on, a short nap keeps the loop from spinning until the workers are reaped.
  ::poll(fds.data(), fds.size(), fds.empty() ? 10 : 100);
  if (fds.empty()) return false;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) owners[i]->drain();
  }
  return true;
}

/// Whether every worker has ended.
bool GroupWatch::reap_workers() {
  bool all_exited = true;
  for (auto& w : workers_) {
    if (w.reap()) on_ended(w);
    all_exited = all_exited && w.exited();
  }
  return all_exited;
}

/// The first worker to fail, while nothing else stops the group, stops the others.
void GroupWatch::on_ended(const WorkerProcess& w) {
  const bool preempted_exit = result_.preempted && w.term_signal() == 0 && w.exit_code() == kExitPreempted;
  if (w.succeeded() || preempted_exit) return;
  if (result_.failure || stop_signal_ != 0 || result_.timed_out) return;
  WorkerFailure f;
  f.rank = w.rank;
  f.pid = w.pid();
  f.signal = w.term_signal();
  f.exit_code = w.exit_code();
  result_.failure = f;
  log_warn("launch", "rank {} (pid {}) failed: {}; stopping the other workers", w.rank, w.pid(), f.describe());
  stop_all_then_kill(SIGTERM);
}

/// Rank 0's store listens: the reserved port can go (rank 0 holds it now).
void GroupWatch::release_port_once_listening() {
  if (reserved_.held() && (workers_.empty() || workers_[0].exited() || spec_.node_rank != 0 ||
                           is_listening(spec_.master_addr, spec_.master_port, 50))) {
    reserved_.release();
  }
}

void GroupWatch::act_on_signals() {
  if (g_preempt_notice != 0) {
    g_preempt_notice = 0;
    if (!result_.preempted) {
      result_.preempted = true;
      log_warn("launch", "received SIGUSR1 (pre-emption notice); the workers checkpoint at the next step and stop");
      stop_all(SIGUSR1);
    }
  }
  if (g_stop_signal != 0 && stop_signal_ == 0) {
    stop_signal_ = g_stop_signal;
    log_warn("launch", "received {}; passing it on to the workers", signal_name(stop_signal_));
    stop_all_then_kill(stop_signal_);
  }
}

void GroupWatch::check_time_limit() {
  if (spec_.timeout_s > 0 && !result_.timed_out && !result_.failure && stop_signal_ == 0 &&
      std::chrono::duration<double>(Clock::now() - started_).count() > spec_.timeout_s) {
    result_.timed_out = true;
    log_warn("launch", "the workers did not finish within {} s; stopping them", spec_.timeout_s);
    stop_all_then_kill(SIGTERM);
  }
}

void GroupWatch::stop_all(int sig) {
  for (auto& w : workers_) {
    if (w.exited()) continue;
    w.signal(sig);
    if (sig != SIGUSR1) {
      w.stop_sent = true;
      w.signal(SIGCONT);  // a stopped (hung, SIGSTOPped) worker must act on it now
    }
  }
}

/// Sends `sig`, and SIGKILL to whoever is left after the grace period.
void GroupWatch::stop_all_then_kill(int sig) {
  stop_all(sig);
  kill_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(spec_.grace_period_s));
}

/// Names the rank that failed first and prints the report on it.
void report_failure(const WorkerGroupSpec& spec, const std::vector<WorkerProcess>& workers, WorkerFailure& failure) {
  std::vector<WorkerOutcome> outcomes;
  for (const auto& w : workers) outcomes.push_back(outcome_of(w));
  if (auto first = first_failure(outcomes)) failure = *first;  // else keep the one observed first
  const auto& w = workers[static_cast<std::size_t>(failure.rank - spec.node_rank * spec.nproc_per_node)];
  failure.tail.assign(w.tail.begin(), w.tail.end());
  for (const auto& line : failure_report(failure, spec.logs_dir)) {
    if (line.warning) {
      log_warn("launch", "{}", line.text);
    } else {
      std::fprintf(stderr, "[launch] %s\n", line.text.c_str());
    }
  }
}

int group_exit_code(const LaunchResult& result, int stop_signal, const std::vector<WorkerProcess>& workers) {
  if (result.failure) return kExitFailure;
  if (stop_signal != 0) return 128 + stop_signal;
  if (result.preempted) {
    bool all_preempted = true;
    for (const auto& w : workers) all_preempted = all_preempted && w.term_signal() == 0 && w.exit_code() == kExitPreempted;
    return all_preempted ? kExitPreempted : kExitOk;
  }
  return result.timed_out ? kExitFailure : kExitOk;
}

}  // namespace

LaunchResult run_workers(const WorkerGroupSpec& input) {
  WorkerGroupSpec spec = input;
  if (spec.argv.empty()) throw std::invalid_argument("[launch] no worker command");
  PortReservation reserved = reserve_master_port(spec);
  give_store_token(spec);
  LaunchResult result;
  result.master_port = spec.master_port;
  if (!spec.logs_dir.empty()) std::filesystem::create_directories(spec.logs_dir);

  std::vector<WorkerProcess> workers(static_cast<std::size_t>(spec.nproc_per_node));
  int stop_signal = 0;
  {
    // Our handlers while the group runs; the previous ones are back before the report.
    g_stop_signal = 0;
    g_preempt_notice = 0;
    const ScopedSignalHandler stop_handler({SIGINT, SIGTERM}, on_stop_signal);
    const ScopedSignalHandler preempt_handler({SIGUSR1}, on_preempt_notice);
    for (int local = 0; local < spec.nproc_per_node; ++local) start_worker(spec, local, workers[local]);
    GroupWatch watch(spec, workers, reserved, result);
    watch.run();
    stop_signal = watch.stop_signal();
  }
  if (result.failure) report_failure(spec, workers, *result.failure);
  result.exit_code = group_exit_code(result, stop_signal, workers);
  return result;
}

}  // namespace tandem::launch
