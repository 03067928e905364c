// The Gloo communicator between real processes, and the rendezvous timeout.
#include <gtest/gtest.h>

#include "framework/dist/communicator.h"
#include "launch/free_port.h"
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

}  // namespace
}  // namespace tandem::dist
