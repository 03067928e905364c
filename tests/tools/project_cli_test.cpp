// `tandem project` end to end: planning without a run, from a run directory,
// the published validation table, and bad flags named in the error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/multiprocess.h"
#include "tests/support/tandem_command.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using test::tandem;

TEST(Project, PlansTheShippedModelOnH100sWithoutARun) {
  const fs::path dir = test::make_temp_dir("project");
  const auto run = tandem("project --grad-mb 1.93 --batch 64 1024 --step-ms 5.2 5.1 --out " + (dir / "plan").string(), 60);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("| workers | batch 64 | batch 1024 |"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("| 1024 |"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("nodes over 8 x ib400"), std::string::npos) << run.output;
  // One GPU at batch 1024 beats 16 GPUs at 64 for the same global batch.
  EXPECT_NE(run.output.find("| 1024 | 16 x 64: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("**1 x 1024: 5.10 ms**"), std::string::npos) << run.output;
  EXPECT_TRUE(fs::exists(dir / "plan" / "projection.dat"));
  EXPECT_TRUE(fs::exists(dir / "plan" / "projection.gp"));
  fs::remove_all(dir);
}

TEST(Project, ReadsStepTimeAndGradientsFromARun) {
  const fs::path dir = test::make_temp_dir("project_run");
  std::ofstream(dir / "metrics.jsonl")
      << R"({"kind":"start","global_step":0,"world_size":1,"batch_size":64,"global_batch":64,"lr":0.004})" "\n"
      << R"({"kind":"step","global_step":10,"loss":3.0,"time_s":0.5})" "\n"
      << R"({"kind":"end","global_step":100,"time_s":5.5,"eval_s":0.5,"samples":6400,)"
      << R"("ddp_bytes_per_step":400000,"ddp_buckets":2})" "\n";
  // 100 steps in 5 s of training: 50 ms each; 0.4 MB in two buckets of 0.2 MB.
  auto run = tandem("project --from " + dir.string(), 60);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("0.4 MB of gradients in buckets of 0.2 MB"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("batch 64 per worker (50.00 ms a step)"), std::string::npos) << run.output;
  run = tandem("project --from " + (dir / "nowhere").string(), 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--from: expected a run directory with metrics.jsonl, got"), std::string::npos) << run.output;
  fs::remove_all(dir);
}

TEST(Project, ValidationTablePrintsEveryPublishedRow) {
  const auto run = tandem("project --validate", 60);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* row : {"PyTorch DDP, ResNet-101, 16 V100", "Horovod, VGG-16, 128 GPUs", "Goyal et al."}) {
    EXPECT_NE(run.output.find(row), std::string::npos) << row << "\n" << run.output;
  }
}

TEST(Project, BadInputNamesTheFlagWhatWasExpectedAndWhatCame) {
  auto run = tandem("project --grad-mb 1.93 --batch 64 --step-ms 5.2 --inter 5:fast", 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--inter: expected a preset (nvlink, pcie, ib100, ib200, ib400, eth25) or "
                            "ALPHA_US:GBYTES_PER_S such as 5:47.5, got '5:fast'"),
            std::string::npos)
      << run.output;
  run = tandem("project --grad-mb 1.93 --batch 64 256 --step-ms 5.2", 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--batch: expected as many values as --step-ms (1), got 2"), std::string::npos) << run.output;
  run = tandem("project --grad-mb 0 --params -5 --batch 64 --step-ms 5.2", 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--params: expected a number > 0, got -5"), std::string::npos) << run.output;
  run = tandem("project --batch 64 --step-ms 5.2", 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("expected the model's gradient size"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace tandem
