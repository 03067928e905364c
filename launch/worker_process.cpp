#include "launch/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tandem::launch {
namespace {

int64_t wall_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

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
