// The `tandem` command end to end: real processes through the launcher.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/multiprocess.h"
#include "tests/support/tandem_command.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

using test::tandem;

std::string corpus() { return std::string(TANDEM_SOURCE_DIR) + "/data/corpora/names.txt"; }

std::vector<nlohmann::json> step_records(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["kind"] == "step") out.push_back(j);
  }
  return out;
}

/// The value of a `name value` line of a command's output (NaN when absent).
double metric_of(const std::string& output, const std::string& name) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return std::nan("");
}

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

/// What a finished two-worker run leaves: one record per step, the DDP
/// counters, logs per rank, the newest checkpoints.
void expect_run_layout(const fs::path& run_dir) {
  auto steps = step_records(run_dir);
  ASSERT_EQ(steps.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(steps[i]["global_step"].get<int>(), i + 1) << "each step logged once";
  EXPECT_DOUBLE_EQ(steps[0]["samples"].get<double>(), 64.0) << "the loss is over both ranks' samples";
  // The DDP counters: gradients were reduced, communication took time, and
  // the exposed part is a part of it (cumulative, so non-decreasing).
  EXPECT_GT(steps.back()["ddp_bytes_per_step"].get<double>(), 0.0);
  EXPECT_GE(steps.back()["ddp_buckets"].get<double>(), 1.0);
  EXPECT_GT(steps.back()["ddp_comm_s"].get<double>(), 0.0);
  EXPECT_GE(steps.back()["ddp_comm_s"].get<double>(), steps.front()["ddp_comm_s"].get<double>());
  EXPECT_GE(steps.back()["ddp_exposed_comm_s"].get<double>(), 0.0);
  EXPECT_TRUE(fs::exists(run_dir / "config.yaml"));
  EXPECT_TRUE(fs::exists(run_dir / "logs" / "rank0.log"));
  EXPECT_TRUE(fs::exists(run_dir / "logs" / "rank1.log"));
  EXPECT_TRUE(fs::exists(run_dir / "checkpoints" / "step-000000030.pt"));
  EXPECT_TRUE(fs::exists(run_dir / "checkpoints" / "step-000000020.pt"));
  EXPECT_FALSE(fs::exists(run_dir / "checkpoints" / "step-000000010.pt")) << "keep_checkpoints: 2";
  EXPECT_EQ(tandem("validate " + (run_dir / "config.yaml").string()).exit_code, 0);
}

/// `tandem sample` from the run's checkpoint: repeatable, prefixes, --stats.
void expect_sampling(const fs::path& run_dir) {
  auto sample = tandem("sample --checkpoint " + run_dir.string() + " --count 7 --seed 3 --temperature 0.8");
  ASSERT_EQ(sample.exit_code, 0) << sample.output;
  EXPECT_EQ(count_lines(sample.output), 7) << sample.output;
  EXPECT_EQ(sample.output, tandem("sample --checkpoint " + run_dir.string() + " --count 7 --seed 3 --temperature 0.8").output);
  auto prefixed = tandem("sample --checkpoint " + run_dir.string() + " --count 3 --prefix bo --novel");
  ASSERT_EQ(prefixed.exit_code, 0) << prefixed.output;
  std::istringstream lines(prefixed.output);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(line.rfind("bo", 0), 0u) << line;
  EXPECT_EQ(tandem("sample --checkpoint " + run_dir.string() + " --prefix 'R2'").exit_code, 2);

  // --stats: shares and lengths of 1000 samples by default.
  auto stats = tandem("sample --checkpoint " + run_dir.string() + " --stats --seed 1");
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_NE(stats.output.find("1000 names sampled\nnovel (not a training name) "), std::string::npos) << stats.output;
  EXPECT_NE(stats.output.find("\nequal to a training name "), std::string::npos) << stats.output;
  EXPECT_NE(stats.output.find("training names (4672)\nmean "), std::string::npos) << stats.output;
  auto few = tandem("sample --checkpoint " + run_dir.string() + " --stats --count 20 --prefix b --temperature 0.5");
  ASSERT_EQ(few.exit_code, 0) << few.output;
  EXPECT_NE(few.output.find("20 names sampled"), std::string::npos) << few.output;
  EXPECT_EQ(tandem("sample --checkpoint " + run_dir.string() + " --stats --novel").exit_code, 2);
}

/// `tandem eval` and validation report the language-model metrics.
void expect_eval_metrics(const fs::path& run_dir, const fs::path& scratch, const std::string& launch_output) {
  auto eval = tandem("eval --checkpoint " + run_dir.string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  // 519 held-out names, 3499 characters with their stops: the split `tandem ngram` scores too.
  EXPECT_NE(eval.output.find("(step 30), split val, 3499 samples"), std::string::npos) << eval.output;
  for (const char* metric : {"\nwindow_loss ", "\naccuracy ", "\nnll ", "\nbpc ", "\nperplexity "}) {
    EXPECT_NE(eval.output.find(metric), std::string::npos) << metric << "\n" << eval.output;
  }
  EXPECT_EQ(eval.output.find("\nloss "), std::string::npos) << "the window loss has its own name\n" << eval.output;
  const double nll = metric_of(eval.output, "nll");
  EXPECT_GT(nll, 1.0);
  EXPECT_LT(nll, std::log(31.0)) << "30 steps learn something";
  EXPECT_NEAR(metric_of(eval.output, "bpc"), nll / std::log(2.0), 1e-5);
  EXPECT_NEAR(metric_of(eval.output, "perplexity"), std::exp(nll), 1e-4);
  auto eval_other = tandem("eval --checkpoint " + run_dir.string() + " data.val_fraction=0.5");
  EXPECT_EQ(eval_other.exit_code, 0) << eval_other.output;
  EXPECT_NE(eval_other.output, eval.output);
  EXPECT_EQ(tandem("eval --checkpoint " + (scratch / "missing").string()).exit_code, 2);

  // An inference-only model key overrides the checkpoint's: a temperature of 2
  // halves the logits, which moves the nll; the window loss is a training
  // quantity and moves too (it is computed from the same logits).
  auto warm = tandem("eval --checkpoint " + run_dir.string() + " model.calibration_temperature=2");
  ASSERT_EQ(warm.exit_code, 0) << warm.output;
  EXPECT_GT(std::abs(metric_of(warm.output, "nll") - nll), 1e-3) << warm.output;
  auto same = tandem("eval --checkpoint " + run_dir.string() + " model.calibration_temperature=1");
  EXPECT_DOUBLE_EQ(metric_of(same.output, "nll"), nll) << "1 is the stored value";
  // The rest of the model is the checkpoint's, and values are checked as a recipe's are.
  auto shape = tandem("eval --checkpoint " + run_dir.string() + " model.hidden=8");
  EXPECT_EQ(shape.exit_code, 2);
  EXPECT_NE(shape.output.find("model.hidden=8: eval takes data overrides (data.key=value) and the model's inference "
                              "keys (model.calibration_temperature); the rest of the model is the checkpoint's"),
            std::string::npos)
      << shape.output;
  auto zero = tandem("eval --checkpoint " + run_dir.string() + " model.calibration_temperature=0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.output.find("model.calibration_temperature"), std::string::npos) << zero.output;

  // Validation reports the same metrics, in metrics.jsonl and the progress line.
  bool validated = false;
  std::ifstream records(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(records, line);) {
    auto j = nlohmann::json::parse(line);
    if (!j.contains("val_nll")) continue;
    validated = true;
    for (const char* key : {"val_window_loss", "val_accuracy", "val_bpc", "val_perplexity"}) {
      EXPECT_TRUE(j.contains(key)) << key << " in " << line;
    }
    EXPECT_FALSE(j.contains("val_loss")) << line;
  }
  EXPECT_TRUE(validated) << "a record with val_nll";
  EXPECT_NE(launch_output.find("val_nll "), std::string::npos) << launch_output;
}

/// `tandem eval --data`: any names file, scored with the model's alphabet.
void expect_eval_on_a_file(const fs::path& run_dir, const fs::path& scratch) {
  const auto names = scratch / "other names.txt";
  std::ofstream(names) << "Rex\nBella\n\nJean-Luc\n";
  auto on_file = tandem("eval --checkpoint " + run_dir.string() + " --data '" + names.string() + "'");
  ASSERT_EQ(on_file.exit_code, 0) << on_file.output;
  EXPECT_NE(on_file.output.find("data " + names.string() + ", 3 names, 19 samples"), std::string::npos)
      << on_file.output;
  EXPECT_GT(metric_of(on_file.output, "nll"), 0.0);
  std::ofstream(names, std::ios::app) << "R2-D2\nZo\xc3\xab\n";
  auto unknown = tandem("eval --checkpoint " + run_dir.string() + " --data '" + names.string() + "'");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find(names.string() + ":5: expected a name made of a-z, '-', '.' and space, got 'r2-d2' "
                                "(character '2') at column 2; pass --skip-unknown to skip such names"),
            std::string::npos)
      << unknown.output;
  auto skipping = tandem("eval --checkpoint " + run_dir.string() + " --data '" + names.string() + "' --skip-unknown");
  ASSERT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("3 names (2 skipped: characters outside a-z, '-', '.' and space), 19 samples"),
            std::string::npos)
      << skipping.output;
  EXPECT_DOUBLE_EQ(metric_of(skipping.output, "nll"), metric_of(on_file.output, "nll"));
  EXPECT_EQ(tandem("eval --checkpoint " + run_dir.string() + " --skip-unknown").exit_code, 2) << "needs --data";
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("cli"); }
  void TearDown() override { fs::remove_all(dir_); }

  /// A small char_lstm recipe that trains in seconds.
  std::string tiny_recipe() {
    const auto path = fs::path(dir_) / "tiny.yaml";
    std::ofstream(path) << "model: {type: char_lstm, context: 8, hidden: 32, layers: 2, dropout: 0.0}\n"
                        << "data: {type: names, path: " << corpus() << ", context: 8, val_fraction: 0.1}\n"
                        << "optim: {type: adam, lr: 0.004}\n"
                        << "trainer: {epochs: 1, max_steps: 30, batch_size: 32, log_every: 1, checkpoint_every: 10,"
                        << " samples_at_end: 3}\n"
                        << "launch: {timeout_s: 60}\n";
    return path.string();
  }

  fs::path dir_;
};

TEST_F(Cli, ValidateReportsTheMultiHostMistakesWithFileLineAndKey) {
  // tiny_recipe with its launch: line replaced by a section for three hosts with two mistakes.
  std::ifstream tiny(tiny_recipe());
  std::stringstream text;
  text << tiny.rdbuf();
  const auto recipe = (fs::path(dir_) / "hosts.yaml").string();
  std::ofstream(recipe) << text.str().substr(0, text.str().find("launch:")) << "launch:\n  nnodes: 3\n  node_rank: 3\n";
  auto r = tandem("validate " + recipe);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(recipe + ":7:14: launch.node_rank: expected a host index below launch.nnodes=3, got 3"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find(recipe + ":6:3: launch.master_port: expected a fixed port when launch.nnodes=3 (every "
                          "host must dial the same one), got 0"),
            std::string::npos) << r.output;
  // Flags are overrides, named as such; launch rejects the same before it makes a run directory.
  auto flags = tandem("validate " + tiny_recipe() + " launch.nnodes=2 launch.master_port=29500 launch.node_rank=2");
  EXPECT_EQ(flags.exit_code, 2) << flags.output;
  EXPECT_NE(flags.output.find("override 'launch.node_rank=2': launch.node_rank: expected a host index below "
                              "launch.nnodes=2, got 2"),
            std::string::npos) << flags.output;
  const auto run_dir = fs::path(dir_) / "run";
  auto launch = tandem("launch --nnodes 2 --node-rank 0 --run-dir " + run_dir.string() + " " + tiny_recipe());
  EXPECT_EQ(launch.exit_code, 2) << launch.output;
  EXPECT_NE(launch.output.find("launch.master_port: expected a fixed port when launch.nnodes=2"), std::string::npos)
      << launch.output;
  EXPECT_FALSE(fs::exists(run_dir)) << "nothing was started";
}

TEST_F(Cli, HelpOnEverySubcommand) {
  for (const char* cmd : {"", "launch", "train", "validate", "sample", "eval", "ngram"}) {
    auto r = tandem(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd;
  }
  EXPECT_EQ(tandem("launch --no-such-flag x.yaml").exit_code, 2);
  EXPECT_EQ(tandem("").exit_code, 2);
}

TEST_F(Cli, ABadRecipeIsReportedWholeAndStartsNothing) {
  const auto recipe = (fs::path(dir_) / "bad.yaml").string();
  std::ofstream(recipe) << "model:\n"
                           "  type: char_lstm\n"
                           "data:\n"
                           "  type: names\n"
                           "  path: /no/such/names.txt\n"
                           "optim:\n"
                           "  lr: -0.01\n"
                           "trainer:\n"
                           "  epoch: 2\n";
  auto r = tandem("validate " + recipe);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(recipe + ":5:9: data.path: expected a path to an existing file, got '/no/such/names.txt'"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find(recipe + ":7:7: optim.lr: expected a number > 0, got -0.01"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(recipe + ":9:3: trainer.epoch:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'epochs'?"), std::string::npos) << r.output;

  const auto run_dir = fs::path(dir_) / "run";
  auto launch = tandem("launch --nproc-per-node 2 --run-dir " + run_dir.string() + " " + recipe);
  EXPECT_EQ(launch.exit_code, 2);
  EXPECT_FALSE(fs::exists(run_dir)) << "nothing was started";
  EXPECT_EQ(launch.output.find("[rank"), std::string::npos) << launch.output;

  // NCCL is a choice only where this Tandem's LibTorch has CUDA (a LibTorch
  // 2.x CUDA build); the list of choices in an error says which build this is.
  auto bogus = tandem("validate " + tiny_recipe() + " launch.backend=bogus");
  EXPECT_EQ(bogus.exit_code, 2);
  const bool has_nccl = bogus.output.find("expected one of auto, gloo, nccl, got 'bogus'") != std::string::npos;
  EXPECT_TRUE(has_nccl || bogus.output.find("expected one of auto, gloo, got 'bogus'") != std::string::npos)
      << bogus.output;
  auto nccl = tandem("validate " + tiny_recipe() + " launch.backend=nccl");
  if (has_nccl) {
    EXPECT_EQ(nccl.exit_code, 0) << nccl.output;
  } else {
    EXPECT_EQ(nccl.exit_code, 2);
    EXPECT_NE(nccl.output.find("launch.backend: expected one of auto, gloo, got 'nccl' (this Tandem is built against a "
                               "LibTorch without CUDA"),
              std::string::npos) << nccl.output;
  }

  auto unknown = tandem("validate " + tiny_recipe() + " model.type=char_lstn");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("override 'model.type=char_lstn': model.type: expected one of char_lstm"),
            std::string::npos) << unknown.output;
}

// Rules across keys, and names looked up in registries, are recipe errors
// too, found before anything starts.
TEST_F(Cli, RulesAcrossKeysAndRegisteredNamesAreCheckedBeforeAnythingStarts) {
  const auto run_dir = fs::path(dir_) / "run";
  auto context = tandem("launch --run-dir " + run_dir.string() + " " + tiny_recipe() + " data.context=12");
  EXPECT_EQ(context.exit_code, 2);
  EXPECT_NE(context.output.find("override 'data.context=12': data.context: expected model.context's value 8, got 12"),
            std::string::npos) << context.output;
  EXPECT_FALSE(fs::exists(run_dir)) << "nothing was started";
  auto windows = tandem("validate " + tiny_recipe() + " data.windows=whole_name");
  EXPECT_EQ(windows.exit_code, 2);
  EXPECT_NE(windows.output.find("data.windows: expected model.windows's value every_position, got whole_name"),
            std::string::npos) << windows.output;
  auto betas = tandem("validate " + tiny_recipe() + " optim.betas=[0.9,0.99,0.5]");
  EXPECT_EQ(betas.exit_code, 2);
  EXPECT_NE(betas.output.find("optim.betas: expected 2 numbers (beta1, beta2), got 3"), std::string::npos)
      << betas.output;
  // Optimizers and communication hooks come from registries; a typo gets the nearest registered name.
  auto optimizer = tandem("validate " + tiny_recipe() + " optim.type=adma");
  EXPECT_EQ(optimizer.exit_code, 2);
  EXPECT_NE(optimizer.output.find("override 'optim.type=adma': optim.type: expected one of adam, sgd, got 'adma' "
                                  "(did you mean 'adam'?)"),
            std::string::npos)
      << optimizer.output;
  auto hook = tandem("validate " + tiny_recipe() + " ddp.comm_hook=fp61");
  EXPECT_EQ(hook.exit_code, 2);
  EXPECT_NE(hook.output.find("override 'ddp.comm_hook=fp61': ddp.comm_hook: expected one of allreduce, bf16, fp16, "
                             "got 'fp61' (did you mean 'fp16'?)"),
            std::string::npos)
      << hook.output;
  auto global = tandem("launch --nproc-per-node 2 --run-dir " + run_dir.string() + " " + tiny_recipe() +
                       " trainer.global_batch_size=33");
  EXPECT_EQ(global.exit_code, 2);
  EXPECT_NE(global.output.find("override 'trainer.global_batch_size=33': trainer.global_batch_size: expected a "
                               "multiple of 2 (2 workers x 1 accumulate_steps) so every worker gets the same batch, "
                               "got 33"),
            std::string::npos)
      << global.output;
  EXPECT_FALSE(fs::exists(run_dir)) << "nothing was started";
}

TEST_F(Cli, TheWorkerCountIsCheckedBeforeAnythingStarts) {
  const auto run_dir = fs::path(dir_) / "run";
  auto many = tandem("launch --nproc-per-node many --run-dir " + run_dir.string() + " " + tiny_recipe());
  EXPECT_EQ(many.exit_code, 2);
  EXPECT_NE(many.output.find("--nproc-per-node: expected auto, cpu, gpu or an integer in [1, 1024], got 'many'"),
            std::string::npos) << many.output;
  // With every GPU hidden (on any machine), `gpu` has nothing to count.
  auto gpu = test::run_command("CUDA_VISIBLE_DEVICES= " + std::string(TANDEM_EXE) + " launch --nproc-per-node gpu " +
                               "--run-dir " + run_dir.string() + " " + tiny_recipe());
  EXPECT_EQ(gpu.exit_code, 2);
  EXPECT_NE(gpu.output.find("--nproc-per-node gpu: expected at least one visible GPU, got none"), std::string::npos)
      << gpu.output;
  EXPECT_FALSE(fs::exists(run_dir)) << "nothing was started";
}

TEST_F(Cli, LaunchTrainsTwoWorkersThenSampleAndEvalReadTheCheckpoint) {
  const auto run_dir = fs::path(dir_) / "run";
  auto r = tandem("launch --nproc-per-node 2 " + tiny_recipe() + " --run-dir " + run_dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[rank0]: [train] epoch 1/1  step 30/"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[rank0]: [sample] 3 generated names:"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("[rank1]: [train]"), std::string::npos) << "only rank 0 reports progress";
  EXPECT_EQ(r.output.find("sweep: block"), std::string::npos) << "the recipe has no sweep: block\n" << r.output;

  expect_run_layout(run_dir);
  expect_sampling(run_dir);
  expect_eval_metrics(run_dir, dir_, r.output);
  expect_eval_on_a_file(run_dir, dir_);
}

TEST_F(Cli, NgramBaselineFitsTheRecipesTrainingSplitAndScoresItsValidationSplit) {
  auto r = tandem("ngram " + tiny_recipe() + " --order 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3-gram, interpolated Kneser-Ney"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fitted to 4672 training names"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("scored: validation split of " + corpus() + ", 519 names, 3499 characters"),
            std::string::npos)
      << r.output;
  const double nll = metric_of(r.output, "nll");
  EXPECT_GT(nll, 1.5);
  EXPECT_LT(nll, 3.0);
  EXPECT_NEAR(metric_of(r.output, "bpc"), nll / std::log(2.0), 1e-5);
  EXPECT_NEAR(metric_of(r.output, "perplexity"), std::exp(nll), 1e-4);
  // Another split seed is another split.
  auto other = tandem("ngram " + tiny_recipe() + " --order 3 data.split_seed=7");
  ASSERT_EQ(other.exit_code, 0) << other.output;
  EXPECT_NE(metric_of(other.output, "nll"), nll);
  // A unigram knows less; the whole corpus, 90 % of it seen in fitting, scores better than held-out names.
  EXPECT_GT(metric_of(tandem("ngram " + tiny_recipe() + " --order 1").output, "nll"), nll);
  auto whole = tandem("ngram " + tiny_recipe() + " --order 3 --data " + corpus());
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_NE(whole.output.find("scored: " + corpus() + ", 5191 names"), std::string::npos) << whole.output;
  EXPECT_LT(metric_of(whole.output, "nll"), nll);
  auto bad = tandem("ngram " + tiny_recipe() + " --data " + (fs::path(dir_) / "none.txt").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("cannot read the names file"), std::string::npos) << bad.output;
  EXPECT_EQ(tandem("ngram " + tiny_recipe() + " --order 0").exit_code, 2);
}

TEST_F(Cli, TwoWorkersWithBatchBMatchOneWorkerWithBatch2B) {
  // The default recipe's model (hidden 128, 4 layers) without dropout.
  const std::string common = tiny_recipe() + " trainer.max_steps=50 trainer.validate=false trainer.samples_at_end=0"
                                             " trainer.checkpoint_every=0 model.dropout=0 model.hidden=128 model.layers=4";
  const auto two = fs::path(dir_) / "two", one = fs::path(dir_) / "one";
  auto a = tandem("launch --nproc-per-node 2 " + common + " trainer.batch_size=16 --run-dir " + two.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto b = tandem("launch --nproc-per-node 1 " + common + " trainer.batch_size=32 --run-dir " + one.string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  auto sa = step_records(two), sb = step_records(one);
  ASSERT_EQ(sa.size(), 50u);
  ASSERT_EQ(sb.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    const double la = sa[i]["loss"].get<double>(), lb = sb[i]["loss"].get<double>();
    EXPECT_LE(std::abs(la - lb), 1e-4 * std::abs(lb)) << "step " << i + 1 << ": " << la << " vs " << lb;
  }
  EXPECT_LT(sa.back()["loss"].get<double>(), sa.front()["loss"].get<double>());
}

// The shipped recipe's whole-name windows, per-character loss and weight
// averaging, at small size: the averaged model of 2 workers x 16 names is the
// 1 x 32 one (every rank keeps the same mean), and so is its nll.
TEST_F(Cli, WeightAveragingAndThePerCharacterLossGiveOneModelAtOneAndTwoWorkers) {
  const std::string common = tiny_recipe() + " model.context=16 data.context=16 model.windows=whole_name"
                             " data.windows=whole_name model.loss=per_character model.embedding=16"
                             " trainer.average_weights_from=0.5 trainer.max_steps=40 trainer.samples_at_end=0";
  const auto two = fs::path(dir_) / "two", one = fs::path(dir_) / "one";
  auto a = tandem("launch --nproc-per-node 2 " + common + " trainer.batch_size=16 --run-dir " + two.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_NE(a.output.find("averaging the weights of steps 21 to 40"), std::string::npos) << a.output;
  auto b = tandem("launch --nproc-per-node 1 " + common + " trainer.batch_size=32 --run-dir " + one.string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  auto eval_two = tandem("eval --checkpoint " + two.string()), eval_one = tandem("eval --checkpoint " + one.string());
  ASSERT_EQ(eval_two.exit_code, 0) << eval_two.output;
  ASSERT_EQ(eval_one.exit_code, 0) << eval_one.output;
  const double nll_two = metric_of(eval_two.output, "nll"), nll_one = metric_of(eval_one.output, "nll");
  EXPECT_NEAR(nll_two, nll_one, 1e-4 * nll_one);
  EXPECT_LT(nll_one, 3.0) << "it learnt something: the uniform guess scores 3.43";
}

// Open MPI's launcher instead of ours: `tandem train` finds rank and world in
// OMPI_COMM_WORLD_*. Skipped where Open MPI is not installed.
TEST_F(Cli, TrainRunsUnderMpirunWithTwoRanks) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed (openmpi-bin)";
  const auto run_dir = fs::path(dir_) / "mpi";
  const std::string cmd = "timeout -k 5 180 mpirun --allow-run-as-root --oversubscribe -np 2 -x MASTER_PORT=" +
                          std::to_string(20000 + ::getpid() % 20000) + " -x OMP_NUM_THREADS=1 " +
                          std::string(TANDEM_EXE) + " train " + tiny_recipe() + " trainer.max_steps=4 --run-dir " +
                          run_dir.string() + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_NE(output.find("2 workers x batch 32"), std::string::npos) << output;
  auto steps = step_records(run_dir);
  ASSERT_EQ(steps.size(), 4u) << output;
  EXPECT_DOUBLE_EQ(steps[0]["samples"].get<double>(), 64.0) << "both ranks' samples";
}

TEST_F(Cli, TrainRunsWithoutTheLauncherAsAWorldOfOne) {
  const auto run_dir = fs::path(dir_) / "direct";
  auto r = tandem("train " + tiny_recipe() + " trainer.max_steps=3 --run-dir " + run_dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(step_records(run_dir).size(), 3u);
}

}  // namespace
}  // namespace tandem
