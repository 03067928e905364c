#pragma once
/// Multi-process tests: a test binary runs some of its own code as workers of
/// a real job. The test calls run_workers_of_this_binary("name", world), which
/// starts `world` copies of this executable through Tandem's launcher (real
/// processes, torchrun's environment, a timeout); each copy's main() sees
/// TANDEM_TEST_WORKER=name and runs the function registered under that name.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tandem::test {

using WorkerFn = std::function<int()>;

/// Registers a worker function (use TANDEM_TEST_WORKER).
bool register_worker(const std::string& name, WorkerFn fn);

/// Call first in main(): when this process is a worker, runs it and returns
/// true with its exit code in `*exit_code`.
bool run_as_worker_if_asked(int* exit_code);

struct WorkersResult {
  int exit_code = 0;
  bool timed_out = false;
  std::string failure;  ///< the launcher's description of the first failing rank
};

/// Runs worker `name` in `world` processes and waits (at most `timeout_s`).
WorkersResult run_workers_of_this_binary(const std::string& name, int world,
                                         const std::map<std::string, std::string>& env = {},
                                         double timeout_s = 120);

struct CommandResult {
  int exit_code = -1;  ///< 128+signal when a signal ended it
  std::string output;  ///< stdout and stderr together
};

/// Runs `shell_command` through /bin/sh with stderr joined to stdout.
CommandResult run_command(const std::string& shell_command);

/// A fresh empty directory under the system temp dir.
std::string make_temp_dir(const std::string& tag);

/// The whole text of a file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// The local addresses of the TCP sockets listening on `port`, as the kernel
/// lists them in /proc/net/tcp and tcp6 (hex: "0100007F" is 127.0.0.1,
/// "00000000000000000000000000000000" is ::).
std::vector<std::string> listening_addresses(int port);

/// A TCP socket of a process, as /proc/net/tcp shows it: local and remote
/// "ADDR:PORT" in that hex form (for example "0100007F:9C41"), and the state
/// ("0A" listening, "01" established).
struct TcpSocket {
  std::string local, remote, state;
};
std::vector<TcpSocket> tcp_sockets_of(int pid);

/// The pids of the processes whose parent is `parent` (from /proc/<pid>/stat).
std::vector<int> children_of(int parent);

}  // namespace tandem::test

#define TANDEM_TEST_WORKER(name)                                                                     \
  static int tandem_test_worker_##name();                                                            \
  static const bool tandem_test_worker_registered_##name =                                           \
      ::tandem::test::register_worker(#name, &tandem_test_worker_##name);                            \
  static int tandem_test_worker_##name()
