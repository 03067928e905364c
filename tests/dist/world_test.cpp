#include "framework/dist/world.h"

#include <gtest/gtest.h>

#include <map>

#include "framework/core/error.h"

namespace tandem::dist {
namespace {

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(World, DefaultsToAWorldOfOne) {
  World w = world_from_env(env_of({}));
  EXPECT_EQ(w.rank, 0);
  EXPECT_EQ(w.world_size, 1);
  EXPECT_FALSE(w.distributed());
}

TEST(World, ReadsTorchrunVariables) {
  World w = world_from_env(env_of({{"RANK", "5"},
                                   {"LOCAL_RANK", "1"},
                                   {"WORLD_SIZE", "8"},
                                   {"LOCAL_WORLD_SIZE", "4"},
                                   {"GROUP_RANK", "1"},
                                   {"MASTER_ADDR", "node0"},
                                   {"MASTER_PORT", "29511"}}));
  EXPECT_EQ(w.rank, 5);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.world_size, 8);
  EXPECT_EQ(w.local_world_size, 4);
  EXPECT_EQ(w.group_rank, 1);
  EXPECT_EQ(w.master_addr, "node0");
  EXPECT_EQ(w.master_port, 29511);
  EXPECT_TRUE(w.distributed());
}

TEST(World, DerivesLocalValuesWhenAbsent) {
  World w = world_from_env(env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "2"}}));
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.group_rank, 1);
}

TEST(World, RejectsNonsenseNamingTheVariable) {
  try {
    world_from_env(env_of({{"WORLD_SIZE", "two"}}));
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("WORLD_SIZE: expected an integer >= 1, got 'two'"), std::string::npos);
  }
  EXPECT_THROW(world_from_env(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})), BadInput);
  EXPECT_THROW(world_from_env(env_of({{"MASTER_PORT", "70000"}})), BadInput);
}

}  // namespace
}  // namespace tandem::dist
