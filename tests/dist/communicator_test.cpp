// The Gloo communicator between real processes, and the rendezvous timeout.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"
#include "launch/free_port.h"
#include "launch/launcher.h"
#include "tests/support/multiprocess.h"

namespace tandem::dist {
namespace {

#define WORKER_CHECK(cond)                                                          \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "check failed on line %d: %s\n", __LINE__, #cond);       \
      return 1;                                                                     \
    }                                                                               \
  } while (0)

TANDEM_TEST_WORKER(collectives) {
  World world = world_from_env();
  DistOptions options;
  options.timeout = std::chrono::seconds(30);
  auto comm = connect(world, options);
  const int r = comm->rank();
  WORKER_CHECK(comm->size() == 2 && r == world.rank && comm->backend() == "gloo");

  auto sum = torch::full({3}, static_cast<float>(r + 1));
  comm->allreduce(sum)->wait();
  WORKER_CHECK(torch::allclose(sum, torch::full({3}, 3.0f)));

  auto max = torch::tensor({static_cast<double>(r), 10.0 - r});
  comm->allreduce(max, ReduceOp::kMax)->wait();
  WORKER_CHECK(max[0].item<double>() == 1.0 && max[1].item<double>() == 10.0);

  auto b = r == 0 ? torch::arange(4, torch::kFloat32) : torch::zeros({4});
  comm->broadcast(b, 0)->wait();
  WORKER_CHECK(torch::equal(b, torch::arange(4, torch::kFloat32)));

  std::vector<torch::Tensor> gathered{torch::zeros({2}), torch::zeros({2})};
  comm->allgather(gathered, torch::full({2}, static_cast<float>(10 * r)))->wait();
  WORKER_CHECK(torch::equal(gathered[0], torch::zeros({2})) && torch::equal(gathered[1], torch::full({2}, 10.0f)));

  // Several asynchronous operations in flight at once complete in order.
  std::vector<torch::Tensor> many;
  std::vector<std::shared_ptr<Work>> works;
  for (int k = 0; k < 8; ++k) {
    many.push_back(torch::full({1000}, static_cast<float>(k + r)));
    works.push_back(comm->allreduce(many.back()));
  }
  for (auto& w : works) w->wait();
  for (int k = 0; k < 8; ++k) WORKER_CHECK(many[k][0].item<float>() == static_cast<float>(2 * k + 1));

  comm->barrier()->wait();
  return 0;
}

TEST(Communicator, GlooCollectivesBetweenTwoProcesses) {
  auto result = test::run_workers_of_this_binary("collectives", 2);
  EXPECT_EQ(result.exit_code, 0) << result.failure;
}

/// Rank 1 throws in the middle of a run of allreduces; rank 0, inside the next
/// one, then fails too (the connection to rank 1 is gone).
TANDEM_TEST_WORKER(throws_on_rank1) {
  World world = world_from_env();
  DistOptions options;
  options.timeout = std::chrono::seconds(20);
  auto comm = connect(world, options);
  for (int step = 0; step < 1000; ++step) {
    if (world.rank == 1 && step == 5) throw std::logic_error("injected failure on rank 1 at step 5");
    auto t = torch::ones({1000});
    comm->allreduce(t)->wait();
  }
  return 0;
}

TEST(Communicator, AWorkerThatThrowsIsReportedFirstWithItsErrorText) {
  const std::string logs = test::make_temp_dir("throws");
  launch::WorkerGroupSpec spec;
  spec.argv = {std::filesystem::read_symlink("/proc/self/exe").string()};
  spec.nproc_per_node = 2;
  spec.env["TANDEM_TEST_WORKER"] = "throws_on_rank1";
  spec.logs_dir = logs;
  spec.timeout_s = 60;
  spec.grace_period_s = 2;
  testing::internal::CaptureStderr();
  auto result = launch::run_workers(spec);
  const std::string report = testing::internal::GetCapturedStderr();
  std::cout << report;
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_TRUE(result.failure.has_value());
  EXPECT_EQ(result.failure->rank, 1) << report;
  EXPECT_EQ(result.failure->exit_code, 98);  // the test workers' exit code for an exception
  EXPECT_EQ(result.failure->error_type, "std::logic_error");
  EXPECT_EQ(result.failure->error_message, "injected failure on rank 1 at step 5");
  EXPECT_NE(report.find("rank 1 (pid " + std::to_string(result.failure->pid) + ") failed first: exit code 98"),
            std::string::npos) << report;
  EXPECT_NE(report.find("std::logic_error: injected failure on rank 1 at step 5"), std::string::npos) << report;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(logs) / "error_rank1.json"));
  std::filesystem::remove_all(logs);
}

TEST(Communicator, LocalCommunicatorIsAWorldOfOne) {
  auto comm = make_local_communicator();
  auto t = torch::ones({2});
  comm->allreduce(t)->wait();
  EXPECT_TRUE(torch::equal(t, torch::ones({2})));
  std::vector<torch::Tensor> out{torch::zeros({2})};
  comm->allgather(out, t)->wait();
  EXPECT_TRUE(torch::equal(out[0], t));
  EXPECT_EQ(comm->size(), 1);
}

TEST(Rendezvous, TimeoutNamesTheRanksThatDidNotArrive) {
  World world;
  world.rank = 0;
  world.world_size = 3;
  world.master_port = launch::find_free_port();
  DistOptions options;
  options.timeout = std::chrono::milliseconds(1500);
  try {
    connect(world, options);
    FAIL() << "expected a timeout";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("rank(s) 1, 2 of 3 did not arrive"), std::string::npos) << msg;
  }
}

// A worker of another job (another token) that dials this job's port is
// refused with a clear error, and does not count as arrived.
TEST(Rendezvous, AWorkerWithAnotherJobsTokenIsRefusedAndDoesNotJoin) {
  World host;
  host.rank = 0;
  host.world_size = 2;
  host.store_token = "job-a";
  launch::PortReservation port("127.0.0.1");
  host.master_port = port.port();
  DistOptions options;
  options.timeout = std::chrono::milliseconds(2500);
  std::string host_error;
  std::thread rank0([&] {
    try {
      connect(host, options);
    } catch (const std::exception& e) {
      host_error = e.what();
    }
  });
  World stranger = host;
  stranger.rank = 1;
  stranger.store_token = "job-b";
  std::string stranger_error;
  const auto start = std::chrono::steady_clock::now();
  try {
    connect(stranger, options);
  } catch (const BadInput& e) {
    stranger_error = e.what();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rank0.join();
  EXPECT_NE(stranger_error.find("belongs to another job"), std::string::npos) << stranger_error;
  EXPECT_LT(seconds, 2.0) << "refused at once, not after a timeout";
  EXPECT_NE(host_error.find("rank(s) 1 of 2 did not arrive"), std::string::npos) << host_error;
}

}  // namespace
}  // namespace tandem::dist
