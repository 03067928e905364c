// Checkpoint integrity: the CRC seal refuses damaged files, resolve_checkpoint
// falls back to the newest intact one, and a writer killed (SIGKILL) at random
// moments never leaves a damaged checkpoint where resolve would pick it.
#include "framework/train/checkpoint_integrity.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "framework/core/error.h"
#include "framework/train/checkpoint.h"
#include "tests/support/multiprocess.h"

extern char** environ;

namespace tandem {
namespace {

namespace fs = std::filesystem;

/// About 8 MB of parameters, so that a save takes long enough to be cut.
struct Wide : torch::nn::Module {
  Wide() {
    for (int i = 0; i < 4; ++i) layers.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(700, 700)));
  }
  void fill(double value) {
    torch::NoGradGuard no_grad;
    for (auto& p : parameters()) p.fill_(value);
  }
  std::vector<torch::nn::Linear> layers;
};

int64_t step_of(const fs::path& p) { return std::stoll(p.stem().string().substr(5)); }

/// Saves checkpoints in a loop, each with every parameter equal to its step,
/// keeping the newest two: the process that the kill test shoots.
[[noreturn]] void write_checkpoints_forever(const fs::path& dir) {
  int64_t step = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".pt") step = std::max(step, step_of(e.path()));
  }
  Wide model;
  const std::string ready = "ready " + std::to_string(::getpid()) + "\n";
  (void)!::write(STDOUT_FILENO, ready.data(), ready.size());  // the parent's random delay starts now
  for (;;) {
    ++step;
    model.fill(static_cast<double>(step));
    save_checkpoint(checkpoint_path(dir, step), model, nullptr, {{0, step, step}, "x: 1\n", "test"});
    prune_checkpoints(dir, 2);
  }
}

/// A fork server: started once (exec, loading LibTorch once), it forks a fresh
/// writer for every byte on its stdin, so that each round costs a fork, not a
/// process start. It runs no tensor code itself, so its children start clean.
TANDEM_TEST_WORKER(checkpoint_writer_server) {
  const fs::path dir = std::getenv("CKPT_DIR");
  ::signal(SIGCHLD, SIG_IGN);  // the writers are reaped by the kernel
  char c = 0;
  while (::read(STDIN_FILENO, &c, 1) == 1) {
    if (::fork() == 0) write_checkpoints_forever(dir);
  }
  return 0;
}

class Integrity : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("integrity"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path save(int64_t step) {
    Wide m;
    m.fill(static_cast<double>(step));
    const auto p = checkpoint_path(dir_, step);
    save_checkpoint(p, m, nullptr, {{0, step, step}, "x: 1\n", "test"});
    return p;
  }
  fs::path dir_;
};

void flip_byte(const fs::path& p, std::uintmax_t at) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

std::string load_error(const fs::path& p) {
  Wide m;
  try {
    load_model_state(p, m);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "";
}

TEST_F(Integrity, ASealedCheckpointVerifiesAndLoads) {
  const auto p = save(3);
  EXPECT_EQ(check_sealed_file(p), "");
  EXPECT_EQ(load_error(p), "");
  EXPECT_EQ(read_checkpoint_info(p).position.global_step, 3);
}

TEST_F(Integrity, AFlippedByteIsRefusedWithTheReason) {
  const auto p = save(3);
  flip_byte(p, fs::file_size(p) / 2);  // inside a tensor's bytes: the zip itself would not notice
  const std::string error = load_error(p);
  EXPECT_NE(error.find("corrupt checkpoint, refused: checksum mismatch"), std::string::npos) << error;
  EXPECT_NE(error.find(p.string()), std::string::npos) << error;
}

TEST_F(Integrity, ATruncatedFileIsRefused) {
  const auto p = save(3);
  fs::resize_file(p, fs::file_size(p) - 100);
  EXPECT_NE(load_error(p).find("corrupt checkpoint, refused"), std::string::npos) << load_error(p);
  fs::resize_file(p, 10);
  EXPECT_NE(load_error(p).find("truncated"), std::string::npos) << load_error(p);
}

TEST_F(Integrity, ResolveSkipsACorruptNewestCheckpointForThePreviousGoodOne) {
  const auto older = save(1);
  const auto newer = save(2);
  flip_byte(newer, 1000);
  testing::internal::CaptureStderr();
  const auto picked = resolve_checkpoint(dir_);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(picked, older);
  EXPECT_NE(log.find("skipping corrupt checkpoint " + newer.string()), std::string::npos) << log;
  flip_byte(older, 1000);
  try {
    resolve_checkpoint(dir_);
    ADD_FAILURE() << "every checkpoint is corrupt";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("every step-*.pt checkpoint is corrupt"), std::string::npos) << e.what();
  }
}

TEST_F(Integrity, ASealedCheckpointIsStillAZipThatPythonReads) {
  if (std::system("test -x /usr/bin/python3") != 0) GTEST_SKIP() << "no /usr/bin/python3";
  const auto p = save(1);
  auto r = test::run_command("/usr/bin/python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                             "assert z.testzip() is None; print(z.comment.decode())\" " + p.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tandem-crc32="), std::string::npos) << r.output;
}

/// Starts this test binary as the fork server; `to` and `from` are its stdin and stdout.
pid_t start_server(const fs::path& dir, int* to, FILE** from) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return -1;
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> env{"TANDEM_TEST_WORKER=checkpoint_writer_server", "CKPT_DIR=" + dir.string(),
                               "OMP_NUM_THREADS=1"};
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv{const_cast<char*>(exe.c_str()), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::execve(exe.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  *to = in[1];
  *from = ::fdopen(out[0], "r");
  return pid;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

TEST_F(Integrity, AWriterKilledAtRandomMomentsNeverLeavesACorruptNewestCheckpoint) {
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<int> delay_ms(0, 120);
  int mid_write = 0, checked = 0;
  save(1);  // every round then has a checkpoint to resolve, however slow the machine's saves are
  int to = -1;
  FILE* from = nullptr;
  const pid_t server = start_server(dir_, &to, &from);
  ASSERT_GT(server, 0);
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < 24; ++round) {
    ASSERT_EQ(::write(to, "f", 1), 1);
    pollfd p{::fileno(from), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 30000), 1) << "no writer started within 30 s";
    int pid = 0;
    ASSERT_EQ(std::fscanf(from, " ready %d", &pid), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    // Gone once the server reaps it, which a loaded machine may take a while to schedule: up to 30 s.
    for (int i = 0; i < 15000 && alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_FALSE(alive(pid)) << "writer " << pid << " still there 30 s after SIGKILL";
    bool tmp_left = false;
    for (const auto& e : fs::directory_iterator(dir_)) tmp_left = tmp_left || e.path().extension() == ".tmp";
    mid_write += tmp_left ? 1 : 0;
    fs::path newest;
    ASSERT_NO_THROW(newest = resolve_checkpoint(dir_)) << "round " << round;
    EXPECT_EQ(check_sealed_file(newest), "") << "round " << round << ": " << newest;
    Wide m;
    ASSERT_NO_THROW(load_model_state(newest, m)) << "round " << round << ": " << newest;
    for (const auto& t : m.parameters()) {
      ASSERT_TRUE(torch::all(t == static_cast<double>(step_of(newest))).item<bool>()) << newest;
    }
    ++checked;
  }
  ::close(to);
  int status = 0;
  ::waitpid(server, &status, 0);
  std::fclose(from);
  std::cout << "[ info ] 24 rounds in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s\n";
  EXPECT_EQ(checked, 24);
  std::cout << "[ info ] the writers completed " << step_of(resolve_checkpoint(dir_)) - 1 << " checkpoints\n";
  std::cout << "[ info ] " << mid_write << " of 24 kills landed while a checkpoint was being written\n";
  EXPECT_GT(mid_write, 0) << "no kill landed inside a save: the test did not test atomicity";
}

}  // namespace
}  // namespace tandem
