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

TEST(World, ReadsOpenMpiVariablesUnderMpirun) {
  World w = world_from_env(env_of({{"OMPI_COMM_WORLD_RANK", "3"},
                                   {"OMPI_COMM_WORLD_SIZE", "4"},
                                   {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                   {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                   {"OMPI_COMM_WORLD_NODE_RANK", "1"},
                                   {"MASTER_ADDR", "10.1.2.3"}}));
  EXPECT_EQ(w.source, "openmpi");
  EXPECT_EQ(w.rank, 3);
  EXPECT_EQ(w.world_size, 4);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.local_world_size, 2);
  EXPECT_EQ(w.group_rank, 1);
  EXPECT_EQ(w.master_addr, "10.1.2.3");
}

TEST(World, ReadsSlurmVariablesUnderSrun) {
  World w = world_from_env(env_of({{"SLURM_PROCID", "5"},
                                   {"SLURM_NTASKS", "8"},
                                   {"SLURM_LOCALID", "1"},
                                   {"SLURM_NTASKS_PER_NODE", "4"},
                                   {"SLURM_NODEID", "1"},
                                   {"SLURM_JOB_NODELIST", "gpu[07-08,11],cpu1"},
                                   {"MASTER_PORT", "29700"}}));
  EXPECT_EQ(w.source, "slurm");
  EXPECT_EQ(w.rank, 5);
  EXPECT_EQ(w.world_size, 8);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.local_world_size, 4);
  EXPECT_EQ(w.group_rank, 1);
  EXPECT_EQ(w.master_addr, "gpu07") << "the first host of the job is the master";
  EXPECT_EQ(w.master_port, 29700);
}

TEST(World, TorchrunVariablesWinOverSlurmAndMpi) {
  World w = world_from_env(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "7"}, {"SLURM_NTASKS", "9"},
                                   {"OMPI_COMM_WORLD_RANK", "4"}}));
  EXPECT_EQ(w.source, "torchrun");
  EXPECT_EQ(w.rank, 1);
  EXPECT_EQ(w.world_size, 2);
}

TEST(World, SlurmHostLists) {
  EXPECT_EQ(first_host_of_nodelist("node01"), "node01");
  EXPECT_EQ(first_host_of_nodelist("node[001-128]"), "node001");
  EXPECT_EQ(first_host_of_nodelist("a1,b[2-3]"), "a1");
  EXPECT_EQ(first_host_of_nodelist("rack[3,5-6]-n"), "rack3");
}

TEST(World, BadSlurmValuesNameTheVariable) {
  try {
    world_from_env(env_of({{"SLURM_PROCID", "x"}, {"SLURM_NTASKS", "2"}}));
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("SLURM_PROCID"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::dist
