#include "launch/child_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
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

}  // namespace tandem::launch
