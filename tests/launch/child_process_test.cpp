// spawn_child (launch/child_process.h), the one way the launcher and the sweep
// start processes: output into the given descriptor, nothing else inherited,
// an exec failure reported on the child's output with exit code 127.
#include "launch/child_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/multiprocess.h"

namespace tandem::launch {
namespace {

namespace fs = std::filesystem;

/// Runs `spec` with its output in a file; returns the exit status and the output.
std::pair<int, std::string> run(ChildSpec spec) {
  const fs::path dir = test::make_temp_dir("child_process");
  const fs::path out = dir / "out.log";
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  spec.output_fd = fd;
  const pid_t pid = spawn_child(spec);
  ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  fs::remove_all(dir);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text.str()};
}

TEST(SpawnChild, WritesBothStreamsToTheDescriptorAndInheritsNothingElse) {
  const int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: only spawn_child keeps it out
  ASSERT_GE(leaked, 0);
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exec ls /proc/self/fd"};
  const auto [code, output] = run(spec);
  ::close(leaked);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(output, "out\nerr\n0\n1\n2\n3\n") << "3 is ls's own directory handle";
}

TEST(SpawnChild, UsesTheGivenEnvironmentAndExitCode) {
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo \"x=$X home=$HOME\"; exit 4"};
  spec.env = std::vector<std::string>{"X=1"};
  const auto [code, output] = run(spec);
  EXPECT_EQ(code, 4);
  EXPECT_EQ(output, "x=1 home=\n");
}

TEST(SpawnChild, AProgramThatCannotRunEndsWith127AndSaysWhy) {
  ChildSpec spec;
  spec.argv = {"/no/such/program"};
  spec.exec_failure = "cannot run /no/such/program";
  const auto [code, output] = run(spec);
  EXPECT_EQ(code, 127);
  EXPECT_EQ(output, "cannot run /no/such/program: No such file or directory\n");
  EXPECT_THROW(spawn_child(ChildSpec{}), std::invalid_argument);
}

}  // namespace
}  // namespace tandem::launch
