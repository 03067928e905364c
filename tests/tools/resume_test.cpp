// Exact resume: a run killed (SIGKILL, launcher and workers) and resumed from
// a checkpoint ends bit for bit where an uninterrupted run ends: parameters,
// optimizer state, step counters. Real processes, the real `tandem` command.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

int shell(const std::string& cmd, std::string* output = nullptr) {
  FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::string out;
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// LibTorch keys an optimizer's per-parameter state by the parameter's address
/// in the saving process; param_groups lists those keys in parameter order.
std::vector<std::string> optimizer_state_keys(torch::serialize::InputArchive& optimizer) {
  std::vector<std::string> keys;
  torch::serialize::InputArchive param_groups;
  optimizer.read("param_groups", param_groups);
  torch::Tensor groups;
  param_groups.read("param_groups/size", groups);
  for (int64_t g = 0; g < groups.item<int64_t>(); ++g) {
    torch::serialize::InputArchive group;
    param_groups.read("param_groups/" + std::to_string(g), group);
    torch::Tensor size;
    group.read("params/size", size);
    for (int64_t j = 0; j < size.item<int64_t>(); ++j) {
      c10::IValue key;
      group.read("params/" + std::to_string(j), key);
      keys.push_back(key.toStringRef());
    }
  }
  return keys;
}

void expect_archives_equal(torch::serialize::InputArchive& a, torch::serialize::InputArchive& b,
                           const std::string& where, int* tensors);

/// The optimizers' state, parameter by parameter.
void expect_optimizer_state_equal(torch::serialize::InputArchive& a, torch::serialize::InputArchive& b,
                                  const std::string& where, int* tensors) {
  const auto ka = optimizer_state_keys(a), kb = optimizer_state_keys(b);
  ASSERT_EQ(ka.size(), kb.size()) << where;
  torch::serialize::InputArchive sa, sb;
  ASSERT_TRUE(a.try_read("state", sa) && b.try_read("state", sb)) << where << "state";
  for (std::size_t j = 0; j < ka.size(); ++j) {
    torch::serialize::InputArchive pa, pb;
    const bool has_a = sa.try_read(ka[j], pa), has_b = sb.try_read(kb[j], pb);
    ASSERT_EQ(has_a, has_b) << where << "state of parameter " << j;
    if (has_a) expect_archives_equal(pa, pb, where + "state/" + std::to_string(j) + "/", tensors);
  }
}

/// Compares two checkpoint archives entry by entry, recursing into nested
/// archives (model, optimizer); every tensor must be bitwise equal.
void expect_archives_equal(torch::serialize::InputArchive& a, torch::serialize::InputArchive& b,
                           const std::string& where, int* tensors) {
  auto keys = a.keys();
  std::sort(keys.begin(), keys.end());
  auto has = [&](const char* k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  if (has("param_groups") && has("state")) {
    expect_optimizer_state_equal(a, b, where, tensors);
    return;
  }
  auto other = b.keys();
  std::sort(other.begin(), other.end());
  EXPECT_EQ(keys, other) << where;
  for (const auto& key : keys) {
    if (key == "config" || key == "tandem_version") continue;
    torch::Tensor ta, tb;
    if (a.try_read(key, ta) || a.try_read(key, ta, /*is_buffer=*/true)) {
      ASSERT_TRUE(b.try_read(key, tb) || b.try_read(key, tb, true)) << where << key;
      EXPECT_TRUE(ta.sizes() == tb.sizes() && torch::equal(ta, tb))
          << where << key << " differs; max abs diff "
          << (ta.sizes() == tb.sizes() ? (ta.to(torch::kDouble) - tb.to(torch::kDouble)).abs().max().item<double>() : -1);
      ++*tensors;
      continue;
    }
    torch::serialize::InputArchive sa, sb;
    if (a.try_read(key, sa)) {
      ASSERT_TRUE(b.try_read(key, sb)) << where << key;
      expect_archives_equal(sa, sb, where + key + "/", tensors);
      continue;
    }
    c10::IValue va, vb;
    ASSERT_TRUE(a.try_read(key, va) && b.try_read(key, vb)) << where << key;
    if (va.isInt()) EXPECT_EQ(va.toInt(), vb.toInt()) << where << key;
  }
}

class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("resume");
    // 240 names: a few steps per epoch, so a run spans several epochs in seconds.
    std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/data/corpora/names.txt");
    std::ofstream out(dir_ / "names.txt");
    std::string line;
    for (int i = 0; i < 240 && std::getline(in, line); ++i) out << line << "\n";
    // Dropout on: exactness needs every rank's random state back.
    std::ofstream(dir_ / "r.yaml") << "model: {type: char_lstm, context: 8, hidden: 24, layers: 2, dropout: 0.3}\n"
                                   << "data: {type: names, path: " << (dir_ / "names.txt").string()
                                   << ", context: 8, val_fraction: 0.1}\n"
                                   << "optim: {type: adam, lr: 0.01}\n"
                                   << "trainer: {epochs: 4, batch_size: 64, log_every: 1, checkpoint_every: 1,"
                                   << " keep_checkpoints: 1000, samples_at_end: 0}\n"
                                   << "launch: {nproc_per_node: 2, timeout_s: 60}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string launch(const std::string& args) {
    return std::string(TANDEM_EXE) + " launch " + args;
  }

  static std::vector<fs::path> checkpoints(const fs::path& run) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(run / "checkpoints")) {
      if (e.path().extension() == ".pt") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(Resume, AKilledRunResumedMidEpochAndInsideWarmupEndsBitForBitWhereAStraightRunEnds) {
  const fs::path straight = dir_ / "straight", killed = dir_ / "killed";
  // The kill lands inside the learning-rate warmup, before a cosine decay.
  const std::string recipe = (dir_ / "r.yaml").string() + " optim.warmup_epochs=2.5 optim.decay=cosine";
  std::string out;
  ASSERT_EQ(shell("timeout -k 5 240 " + launch(recipe + " --run-dir " + straight.string()), &out), 0) << out;
  const auto all = checkpoints(straight);
  ASSERT_GE(all.size(), 8u) << "the run must be long enough to resume inside it";
  const std::string last = all.back().filename().string();  // the final checkpoint, after the last step

  // The second run is killed with SIGKILL once it has written checkpoint k.
  // k is inside the second epoch (not on a boundary: steps per epoch > 2).
  const int64_t steps_per_epoch = [&] {
    std::ifstream metrics(straight / "metrics.jsonl");
    for (std::string line; std::getline(metrics, line);) {
      auto record = nlohmann::json::parse(line);
      if (record["kind"] == "epoch") return record["global_step"].get<int64_t>();
    }
    return int64_t{0};
  }();
  ASSERT_GT(steps_per_epoch, 2);
  const int64_t k = steps_per_epoch + steps_per_epoch / 2;
  {
    std::ifstream metrics(straight / "metrics.jsonl");
    std::string line;
    std::getline(metrics, line);
    const auto start = nlohmann::json::parse(line);
    ASSERT_EQ(start["kind"], "start");
    ASSERT_GT(start["warmup_steps"].get<int64_t>(), k) << "the resume must fall inside the warmup";
  }
  const auto kth = fmt::format("step-{:09d}.pt", k);
  const std::string script = fmt::format(
      "set -m; {} > {}/killed.log 2>&1 & pid=$!; "
      "for i in $(seq 1 1200); do [ -f {}/checkpoints/{} ] && break; sleep 0.05; done; "
      "kill -KILL $pid; wait $pid; exit 0",
      launch(recipe + " --run-dir " + killed.string()), dir_.string(), killed.string(), kth);
  ASSERT_EQ(shell("timeout -k 5 240 bash -c '" + script + "'", &out), 0) << out;
  ASSERT_TRUE(fs::exists(killed / "checkpoints" / kth));
  // Wherever the kill landed, resume from k: drop anything written after it.
  for (const auto& p : checkpoints(killed)) {
    if (p.filename().string() > kth) fs::remove(p);
  }
  ASSERT_EQ(shell("timeout -k 5 240 " + launch("--resume " + killed.string()), &out), 0) << out;
  EXPECT_NE(out.find(fmt::format("resuming from {}", (killed / "checkpoints" / kth).string())), std::string::npos)
      << out;

  ASSERT_TRUE(fs::exists(killed / "checkpoints" / last)) << out;
  torch::serialize::InputArchive a, b;
  a.load_from((straight / "checkpoints" / last).string());
  b.load_from((killed / "checkpoints" / last).string());
  int tensors = 0;
  expect_archives_equal(a, b, "", &tensors);
  EXPECT_GT(tensors, 10) << "parameters and optimizer state were compared";
}

TEST_F(Resume, AWorkerKilledMidRunIsRestartedFromTheNewestCheckpointAndEndsBitForBitLikeAStraightRun) {
  const fs::path straight = dir_ / "straight", restarted = dir_ / "restarted";
  std::string out;
  ASSERT_EQ(shell("timeout -k 5 240 " + launch((dir_ / "r.yaml").string() + " --run-dir " + straight.string()), &out), 0)
      << out;
  const auto all = checkpoints(straight);
  ASSERT_GE(all.size(), 8u);
  const std::string last = all.back().filename().string();
  const auto third = fmt::format("step-{:09d}.pt", 3);

  // Rank 1 (found by its environment) gets SIGKILL once checkpoint 3 exists;
  // the launcher stops rank 0 and starts both again from the newest checkpoint.
  const std::string script = fmt::format(
      "{} > {}/restarted.log 2>&1 & pid=$!; "
      "for i in $(seq 1 1200); do [ -f {}/checkpoints/{} ] && break; sleep 0.05; done; "
      "for p in $(pgrep -f \"train {}/config.yaml\"); do "
      "  tr \"\\0\" \"\\n\" < /proc/$p/environ | grep -qx RANK=1 && kill -KILL $p; done; "
      "wait $pid",
      launch((dir_ / "r.yaml").string() + " --run-dir " + restarted.string() + " --max-restarts 1"), dir_.string(),
      restarted.string(), third, restarted.string());
  const int code = shell("timeout -k 5 240 bash -c '" + script + "'", &out);
  std::ifstream log(dir_ / "restarted.log");
  const std::string launcher_output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  ASSERT_EQ(code, 0) << launcher_output << out;
  EXPECT_NE(launcher_output.find("rank 1"), std::string::npos) << launcher_output;
  EXPECT_NE(launcher_output.find("restart 1/1"), std::string::npos) << launcher_output;
  EXPECT_TRUE(fs::exists(restarted / "logs" / "attempt_0" / "rank1.log"));
  EXPECT_TRUE(fs::exists(restarted / "logs" / "attempt_1" / "rank1.log"));

  int starts = 0, restart_count = -1;
  std::ifstream metrics(restarted / "metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    auto record = nlohmann::json::parse(line);
    if (record["kind"] == "start") {
      ++starts;
      restart_count = record["restart"].get<int>();
    }
  }
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(restart_count, 1);

  torch::serialize::InputArchive a, b;
  a.load_from((straight / "checkpoints" / last).string());
  b.load_from((restarted / "checkpoints" / last).string());
  int tensors = 0;
  expect_archives_equal(a, b, "", &tensors);
  EXPECT_GT(tensors, 10);
}

// Two launchers on this machine stand for two hosts of one job (static
// rendezvous on rank 0's store): the job equals one launcher with 2 workers.
TEST_F(Resume, TwoLaunchersAsTwoHostsFormOneJobEqualToOneLauncherWithTwoWorkers) {
  const fs::path single = dir_ / "single", host0 = dir_ / "host0", host1 = dir_ / "host1";
  const std::string recipe = (dir_ / "r.yaml").string() + " trainer.epochs=1";
  std::string out;
  ASSERT_EQ(shell("timeout -k 5 240 " + launch(recipe + " --run-dir " + single.string()), &out), 0) << out;

  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  const std::string common = fmt::format("{} --nnodes 2 --nproc-per-node 1 --master-addr 127.0.0.1 --master-port {}",
                                         recipe, port);
  const std::string script = fmt::format(
      "{} --node-rank 1 --run-dir {} > {}/host1.log 2>&1 & h1=$!; "
      "{} --node-rank 0 --run-dir {} > {}/host0.log 2>&1; c0=$?; wait $h1; c1=$?; echo codes $c0 $c1",
      launch(common), host1.string(), dir_.string(), launch(common), host0.string(), dir_.string());
  ASSERT_EQ(shell("timeout -k 5 240 bash -c '" + script + "'", &out), 0) << out;
  std::ifstream l0(dir_ / "host0.log"), l1(dir_ / "host1.log");
  const std::string log0((std::istreambuf_iterator<char>(l0)), {}), log1((std::istreambuf_iterator<char>(l1)), {});
  ASSERT_NE(out.find("codes 0 0"), std::string::npos) << out << log0 << log1;
  EXPECT_NE(log0.find("on host 0 of 2"), std::string::npos) << log0;
  EXPECT_NE(log1.find("on host 1 of 2"), std::string::npos) << log1;
  EXPECT_TRUE(fs::exists(host1 / "logs" / "rank1.log")) << "host 1 runs global rank 1";
  EXPECT_EQ(log1.find("[rank1]: [train]"), std::string::npos) << "only rank 0 reports progress";
  EXPECT_FALSE(fs::exists(host1 / "checkpoints" / checkpoints(single).back().filename())) << "host 1 writes none";

  const auto last = checkpoints(single).back().filename();
  torch::serialize::InputArchive a, b;
  a.load_from((single / "checkpoints" / last).string());
  b.load_from((host0 / "checkpoints" / last).string());
  int tensors = 0;
  expect_archives_equal(a, b, "", &tensors);
  EXPECT_GT(tensors, 10);
}

TEST_F(Resume, MoreHostsThanNodeRanksOrNoFixedPortIsBadInput) {
  std::string out;
  EXPECT_EQ(shell("timeout 60 " + launch((dir_ / "r.yaml").string() + " --nnodes 2 --node-rank 2 --master-port 29999"),
                  &out), 2) << out;
  EXPECT_NE(out.find("launch.node_rank"), std::string::npos) << out;
  EXPECT_EQ(shell("timeout 60 " + launch((dir_ / "r.yaml").string() + " --nnodes 2 --node-rank 1"), &out), 2) << out;
  EXPECT_NE(out.find("launch.master_port"), std::string::npos) << out;
}

// SIGUSR1 to the launcher (a scheduler's pre-emption notice): the workers
// agree on it at the next step, checkpoint, and stop with exit code 75; a
// resume then ends bit for bit where an uninterrupted run ends.
TEST_F(Resume, APreemptionNoticeCheckpointsAndStopsAndTheResumeIsExact) {
  const fs::path straight = dir_ / "straight", preempted = dir_ / "preempted";
  const std::string recipe = (dir_ / "r.yaml").string() + " trainer.checkpoint_every=1000";
  std::string out;
  ASSERT_EQ(shell("timeout -k 5 240 " + launch(recipe + " --run-dir " + straight.string()), &out), 0) << out;
  const std::string last = checkpoints(straight).back().filename().string();

  const std::string script = fmt::format(
      "{} > {}/preempted.log 2>&1 & pid=$!; "
      "for i in $(seq 1 1200); do [ \"$(grep -c \"kind\\\":\\\"step\" {}/metrics.jsonl 2>/dev/null)\" -ge 3 ] "
      "&& break; sleep 0.05; done; kill -USR1 $pid; wait $pid; echo exit $?",
      launch(recipe + " --run-dir " + preempted.string()), dir_.string(), preempted.string());
  ASSERT_EQ(shell("timeout -k 5 240 bash -c '" + script + "'", &out), 0) << out;
  std::ifstream log(dir_ / "preempted.log");
  const std::string launcher_output((std::istreambuf_iterator<char>(log)), {});
  ASSERT_NE(out.find("exit 75"), std::string::npos) << out << launcher_output;
  EXPECT_NE(launcher_output.find("pre-empted after step"), std::string::npos) << launcher_output;
  const auto written = checkpoints(preempted);
  ASSERT_EQ(written.size(), 1u) << "exactly the pre-emption checkpoint";
  EXPECT_LT(written.back().filename().string(), last) << "stopped before the end";

  ASSERT_EQ(shell("timeout -k 5 240 " + launch("--resume " + preempted.string()), &out), 0) << out;
  torch::serialize::InputArchive a, b;
  a.load_from((straight / "checkpoints" / last).string());
  b.load_from((preempted / "checkpoints" / last).string());
  int tensors = 0;
  expect_archives_equal(a, b, "", &tensors);
  EXPECT_GT(tensors, 10);
}

TEST_F(Resume, ResumingADirectoryWithoutCheckpointsIsBadInputAndStartsNothing) {
  fs::create_directories(dir_ / "empty");
  std::string out;
  EXPECT_EQ(shell("timeout 60 " + launch("--resume " + (dir_ / "empty").string()), &out), 2) << out;
  EXPECT_NE(out.find("holds no complete step-*.pt checkpoint"), std::string::npos) << out;
  EXPECT_EQ(out.find("[rank0]"), std::string::npos) << "no worker started";
}

}  // namespace
}  // namespace tandem
