// The launch: section's rules across keys: what a group over several hosts
// needs, reported by recipe validation (so by `tandem validate` too) with
// file:line:col, before any worker starts.
#include "launch/launch_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "framework/recipe/recipe.h"
#include "tests/support/recipe_problems.h"

namespace tandem::launch {
namespace {

std::vector<std::string> problems(const std::string& text, const std::vector<std::string>& overrides = {}) {
  recipe::Section root;
  root.adopt("launch", launch_schema({"gloo"}));
  return test::recipe_problems(text, root, "r.yaml", overrides);
}

// One declaration per option: an empty launch: section reads as
// LaunchOptions' own defaults.
TEST(LaunchOptionsSection, AnEmptySectionIsTheStructsDefaults) {
  recipe::Section root;
  root.adopt("launch", launch_schema({"gloo"}));
  const LaunchOptions read = launch_options_from(recipe::load_text("launch: {}\n", "r.yaml", {}, root).config["launch"]);
  const LaunchOptions defaults;
  EXPECT_EQ(read.nproc_per_node, defaults.nproc_per_node);
  EXPECT_EQ(read.nnodes, defaults.nnodes);
  EXPECT_EQ(read.node_rank, defaults.node_rank);
  EXPECT_EQ(read.backend, defaults.backend);
  EXPECT_EQ(read.timeout_s, defaults.timeout_s);
  EXPECT_EQ(read.master_addr, defaults.master_addr);
  EXPECT_EQ(read.master_port, defaults.master_port);
  EXPECT_EQ(read.max_restarts, defaults.max_restarts);
  const LaunchOptions set =
      launch_options_from(recipe::load_text("launch: {nproc_per_node: 3, timeout_s: 9.5}\n", "r.yaml", {}, root)
                              .config["launch"]);
  EXPECT_EQ(set.nproc_per_node, 3);
  EXPECT_EQ(set.timeout_s, 9.5);
}

TEST(LaunchRules, OneHostAndAProperMultiHostGroupPass) {
  EXPECT_TRUE(problems("launch: {nproc_per_node: 2}\n").empty());
  EXPECT_TRUE(problems("launch: {nnodes: 2, node_rank: 1, master_port: 29500}\n").empty());
}

TEST(LaunchRules, AHostIndexMustBeBelowTheNumberOfHosts) {
  auto p = problems("launch:\n  nnodes: 2\n  master_port: 29500\n  node_rank: 2\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:4:14: launch.node_rank: expected a host index below launch.nnodes=2, got 2");
  // The default of one host: any node_rank but 0 is wrong.
  p = problems("launch: {node_rank: 1}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:1:21: launch.node_rank: expected a host index below launch.nnodes=1, got 1");
}

TEST(LaunchRules, SeveralHostsNeedAFixedPort) {
  auto p = problems("launch:\n  nnodes: 3\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("launch.master_port: expected a fixed port when launch.nnodes=3 (every host must dial the "
                      "same one), got 0; set launch.master_port or pass --master-port"),
            std::string::npos)
      << p[0];
}

TEST(LaunchRules, BothMistakesAreReportedInOnePassAndOverridesAreNamed) {
  auto p = problems("launch: {nnodes: 2}\n", {"launch.node_rank=5"});
  ASSERT_EQ(p.size(), 2u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("override 'launch.node_rank=5'"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("launch.node_rank: expected a host index below launch.nnodes=2, got 5"), std::string::npos)
      << p[0];
  EXPECT_NE(p[1].find("launch.master_port: expected a fixed port"), std::string::npos) << p[1];
}

}  // namespace
}  // namespace tandem::launch
