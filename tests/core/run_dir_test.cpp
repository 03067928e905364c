// The run directory's layout and the atomic write: plain C++, shared by the
// trainer, the launcher and the sweep.
#include "framework/core/run_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/core/atomic_file.h"
#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TEST(RunDir, NamesEveryPartOfARunUnderItsRoot) {
  const RunDir run("runs/x/1");
  EXPECT_EQ(run.config(), fs::path("runs/x/1/config.yaml"));
  EXPECT_EQ(run.metrics(), fs::path("runs/x/1/metrics.jsonl"));
  EXPECT_EQ(run.rank_log(3), fs::path("runs/x/1/logs/rank3.log"));
  EXPECT_EQ(rank_log_name(12), "rank12.log");
  EXPECT_EQ(run.checkpoints(), fs::path("runs/x/1/checkpoints"));
}

TEST(RunDir, AFreshDefaultNeverNamesAnExistingDirectory) {
  const fs::path base = test::make_temp_dir("run_dir");
  const RunDir first = RunDir::fresh_default("tiny", base);
  EXPECT_EQ(first.root().parent_path(), base / "tiny");
  first.create();
  EXPECT_TRUE(fs::is_directory(first.logs()));
  EXPECT_TRUE(fs::is_directory(first.checkpoints()));
  const RunDir second = RunDir::fresh_default("tiny", base);
  EXPECT_NE(second.root(), first.root());
  EXPECT_FALSE(fs::exists(second.root()));
  fs::remove_all(base);
}

TEST(AtomicFile, ReplacesTheFileWholeAndLeavesNoTemporary) {
  const fs::path dir = test::make_temp_dir("atomic_file");
  write_file_atomically(dir / "a.json", "first\n");
  write_file_atomically(dir / "a.json", "second\n");
  EXPECT_EQ(test::read_file(dir / "a.json"), "second\n");
  EXPECT_FALSE(fs::exists(dir / "a.json.tmp"));
  EXPECT_THROW(write_file_atomically(dir / "missing" / "b.json", "x"), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem
