#include "tests/support/multiprocess.h"

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "launch/error_file.h"
#include "launch/launcher.h"

namespace tandem::test {
namespace {
std::map<std::string, WorkerFn>& workers() {
  static std::map<std::string, WorkerFn> table;
  return table;
}
}  // namespace

bool register_worker(const std::string& name, WorkerFn fn) {
  workers()[name] = std::move(fn);
  return true;
}

bool run_as_worker_if_asked(int* exit_code) {
  const char* name = std::getenv("TANDEM_TEST_WORKER");
  if (name == nullptr) return false;
  auto it = workers().find(name);
  if (it == workers().end()) {
    std::fprintf(stderr, "no test worker named '%s'\n", name);
    *exit_code = 97;
    return true;
  }
  try {
    *exit_code = it->second();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker '%s' threw: %s\n", name, e.what());
    *exit_code = 98;
    launch::record_uncaught_error(e, *exit_code);
  }
  return true;
}

WorkersResult run_workers_of_this_binary(const std::string& name, int world,
                                         const std::map<std::string, std::string>& env, double timeout_s) {
  launch::WorkerGroupSpec spec;
  spec.argv = {std::filesystem::read_symlink("/proc/self/exe").string()};
  spec.nproc_per_node = world;
  spec.env = env;
  spec.env["TANDEM_TEST_WORKER"] = name;
  spec.timeout_s = timeout_s;
  spec.grace_period_s = 2;
  auto result = launch::run_workers(spec);
  WorkersResult out;
  out.exit_code = result.exit_code;
  out.timed_out = result.timed_out;
  if (result.failure) out.failure = "rank " + std::to_string(result.failure->rank) + " " + result.failure->describe();
  return out;
}

std::string make_temp_dir(const std::string& tag) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("tandem-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

CommandResult run_command(const std::string& shell_command) {
  CommandResult r;
  FILE* pipe = ::popen((shell_command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) r.output += buf;
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

namespace {

struct TcpRow {
  TcpSocket socket;
  std::string inode;
};

/// The rows of /proc/net/tcp and tcp6.
std::vector<TcpRow> tcp_rows() {
  std::vector<TcpRow> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream row(line);
      TcpRow r;
      std::string slot, queues, timer, retransmits, uid, timeout;
      row >> slot >> r.socket.local >> r.socket.remote >> r.socket.state >> queues >> timer >> retransmits >> uid >>
          timeout >> r.inode;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> listening_addresses(int port) {
  std::vector<std::string> out;
  for (const auto& r : tcp_rows()) {
    const auto colon = r.socket.local.rfind(':');
    if (r.socket.state == "0A" && colon != std::string::npos &&
        std::stoi(r.socket.local.substr(colon + 1), nullptr, 16) == port) {
      out.push_back(r.socket.local.substr(0, colon));
    }
  }
  return out;
}

std::vector<TcpSocket> tcp_sockets_of(int pid) {
  std::vector<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.push_back(target.substr(8, target.size() - 9));
  }
  std::vector<TcpSocket> out;
  for (const auto& r : tcp_rows()) {
    if (std::find(inodes.begin(), inodes.end(), r.inode) != inodes.end()) out.push_back(r.socket);
  }
  return out;
}

std::vector<int> children_of(int parent) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(e.path() / "stat");
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos || close + 2 > stat.size()) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace tandem::test
