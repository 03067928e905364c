#include "launch/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace tandem::launch {
namespace {

struct ExecArgs {
  char* const* argv;
  char* const* envp;
  const ChildSpec* spec;
  pid_t parent;
};

void write_text(int fd, const char* text) {
  if (text != nullptr) (void)!::write(fd, text, std::strlen(text));
}

/// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const ExecArgs& a) {
  // The child dies with its parent, whatever kills the parent.
  ::prctl(PR_SET_PDEATHSIG, a.spec->parent_death_signal);
  if (::getppid() != a.parent) ::_exit(127);  // the parent died before prctl took effect
  if (a.spec->own_process_group) ::setpgid(0, 0);
  ::fcntl(a.spec->output_fd, F_SETFD, 0);  // kept across exec even where dup2 below is a no-op
  ::dup2(a.spec->output_fd, STDOUT_FILENO);
  ::dup2(a.spec->output_fd, STDERR_FILENO);
  // Nothing else of ours leaks into the child (and, through it, into processes
  // that outlive it): only stdin, stdout and stderr, as close_fds does.
  ::close_range(3, ~0U, 0);
  ::execve(a.argv[0], a.argv, a.envp);
  const int error = errno;
  write_text(STDERR_FILENO, a.spec->exec_failure.c_str());
  write_text(STDERR_FILENO, ": ");
  write_text(STDERR_FILENO, ::strerrordesc_np(error));  // a table lookup, unlike strerror's locale
  write_text(STDERR_FILENO, "\n");
  ::_exit(127);
}

int64_t wall_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

pid_t spawn_child(const ChildSpec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("spawn_child: no program");
  std::vector<std::string> args = spec.argv, env = spec.env.value_or(std::vector<std::string>{});
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const ExecArgs exec{argv.data(), spec.env ? envp.data() : environ, &spec, ::getpid()};
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork() for {}: {}", spec.argv[0], std::strerror(errno)));
  if (pid == 0) exec_child(exec);
  return pid;
}

WorkerProcess::~WorkerProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

void WorkerProcess::start(ChildSpec spec) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("[launch] pipe(): " + std::string(std::strerror(errno)));
  spec.output_fd = fds[1];
  try {
    pid_ = spawn_child(spec);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  out_fd_ = fds[0];
}

void WorkerProcess::emit_line(const std::string& line) {
  std::fprintf(stdout, "[rank%d]: %s\n", rank, line.c_str());
  std::fflush(stdout);
  if (log.is_open()) log << line << '\n' << std::flush;
  tail.push_back(line);
  if (tail.size() > tail_lines) tail.pop_front();
}

bool WorkerProcess::drain() {
  char buf[8192];
  const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) {
    if (!partial_.empty()) emit_line(partial_);
    partial_.clear();
    ::close(out_fd_);
    out_fd_ = -1;
    return false;
  }
  partial_.append(buf, static_cast<std::size_t>(n));
  std::size_t start = 0, nl;
  while ((nl = partial_.find('\n', start)) != std::string::npos) {
    emit_line(partial_.substr(start, nl - start));
    start = nl + 1;
  }
  partial_.erase(0, start);
  return true;
}

void WorkerProcess::finish_output() {
  while (out_fd_ >= 0 && drain() && out_fd_ >= 0) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
    }
  }
}

bool WorkerProcess::reap() {
  if (exited_ || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exited_ = true;
  status_ = status;
  reaped_us_ = wall_now_us();
  return true;
}

void WorkerProcess::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int WorkerProcess::exit_code() const { return exited_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : 0; }
int WorkerProcess::term_signal() const { return exited_ && WIFSIGNALED(status_) ? WTERMSIG(status_) : 0; }

}  // namespace tandem::launch
