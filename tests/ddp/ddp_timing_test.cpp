// Communication time is measured on the gradients' own timeline (the host's
// clock on a CPU, CUDA events on a GPU with NCCL) and read after the fact:
// timing a step never makes the host wait for the device inside it.
#include <gtest/gtest.h>

#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <chrono>

#include "framework/ddp/reducer.h"
#include "framework/dist/stream_mark.h"

namespace tandem::ddp {
namespace {

/// A device timeline the test moves by hand, standing in for a GPU that runs
/// behind the host (this machine has none). Every mark is one tick after the
/// one before; a mark is reached once the device has got that far. Reading
/// the time of a mark the device has not reached counts as the host waiting.
struct Timeline {
  double ticks = 0;
  double device_at = 0;
  int host_waits = 0;
};

class TickMark : public dist::Mark {
 public:
  explicit TickMark(Timeline& timeline) : timeline_(timeline), at_(++timeline.ticks) {}
  bool reached() const override { return timeline_.device_at >= at_; }
  double seconds_since(const Mark& earlier) const override {
    const auto& other = dynamic_cast<const TickMark&>(earlier);
    if (!reached() || !other.reached()) ++timeline_.host_waits;
    return at_ - other.at_;
  }

 private:
  Timeline& timeline_;
  double at_;
};

class TickWork : public dist::Work {
 public:
  explicit TickWork(Timeline& timeline) : end_(std::make_shared<TickMark>(timeline)) {}
  void wait() override {}  // the compute stream waits; the host goes on
  std::shared_ptr<const dist::Mark> completion() const override { return end_; }

 private:
  std::shared_ptr<const dist::Mark> end_;
};

/// Two ranks' worth of collectives that complete on the hand-moved timeline
/// (the gradients are left as they are: only the times are under test).
class TimelineCommunicator : public dist::Communicator {
 public:
  explicit TimelineCommunicator(Timeline& timeline) : timeline_(timeline) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string backend() const override { return "timeline"; }
  std::shared_ptr<dist::Work> allreduce(at::Tensor&, dist::ReduceOp) override {
    return std::make_shared<TickWork>(timeline_);
  }
  std::shared_ptr<dist::Work> broadcast(at::Tensor&, int) override { return std::make_shared<TickWork>(timeline_); }
  std::shared_ptr<dist::Work> allgather(std::vector<at::Tensor>&, const at::Tensor&) override {
    return std::make_shared<TickWork>(timeline_);
  }
  std::shared_ptr<dist::Work> barrier() override { return std::make_shared<TickWork>(timeline_); }
  std::shared_ptr<const dist::Mark> mark(const at::Tensor&) const override {
    return std::make_shared<TickMark>(timeline_);
  }

 private:
  Timeline& timeline_;
};

TEST(DdpTiming, StepTimesAreReadOnceTheDeviceHasPassedThemWithoutTheHostWaitingInsideAStep) {
  Timeline timeline;
  TimelineCommunicator comm(timeline);
  auto w = torch::ones({4}, torch::requires_grad());
  Reducer reducer({w}, {"w"}, comm, BucketPlanOptions{25.0, 25.0}, /*rebuild_buckets=*/false);
  const auto step = [&] {
    reducer.zero_grad();
    (w * 3).sum().backward();
  };
  // One bucket per step: its launch (tick 1), its collective's end (2),
  // backward's end (3), every collective waited for (4). So 1 s of
  // communication not hidden and 1 s from launch to end, per step.
  for (int i = 0; i < 3; ++i) step();
  EXPECT_EQ(timeline.host_waits, 0) << "a step waited for the device";
  EXPECT_EQ(timeline.ticks, 12);

  const DdpCounters& c = reducer.counters();  // the device is behind: this waits, once per mark read
  EXPECT_GT(timeline.host_waits, 0);
  EXPECT_EQ(c.steps, 3);
  EXPECT_DOUBLE_EQ(c.comm_s, 3.0);
  EXPECT_DOUBLE_EQ(c.exposed_comm_s, 3.0);

  // A device that keeps up: each step's times are added as the step ends.
  timeline.device_at = 1e9;
  const int waits = timeline.host_waits;
  step();
  step();
  EXPECT_EQ(reducer.counters().steps, 5);
  EXPECT_DOUBLE_EQ(reducer.counters().comm_s, 5.0);
  EXPECT_DOUBLE_EQ(reducer.counters().exposed_comm_s, 5.0);
  EXPECT_EQ(timeline.host_waits, waits);
}

TEST(DdpTiming, HostMarksAreTheHostsClock) {
  const auto start = dist::Work::Clock::now();
  auto a = dist::host_mark(start);
  auto b = dist::host_mark(start + std::chrono::milliseconds(250));
  EXPECT_TRUE(a->reached());
  EXPECT_DOUBLE_EQ(b->seconds_since(*a), 0.25);
  EXPECT_DOUBLE_EQ(a->seconds_since(*b), -0.25);
  Timeline timeline;
  EXPECT_THROW(a->seconds_since(TickMark(timeline)), std::logic_error) << "two timelines do not compare";
}

// On a GPU: marks time what the GPU did, not when the host enqueued it.
void busy_gpu(const torch::Device& device) {
  auto a = torch::randn({2048, 2048}, torch::TensorOptions().device(device));
  for (int i = 0; i < 40; ++i) a = torch::mm(a, a).div_(2048.0);
}

TEST(StreamMarks, TimeWhatTheGpuDidRatherThanWhatTheHostEnqueued_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  if (!dist::can_time_streams()) GTEST_SKIP() << "this LibTorch cannot time CUDA events";
  const torch::Device gpu(torch::kCUDA, 0);
  busy_gpu(gpu);  // warm up
  torch::cuda::synchronize();
  const auto host_start = std::chrono::steady_clock::now();
  auto before = dist::current_stream_mark(gpu);
  busy_gpu(gpu);
  auto after = dist::current_stream_mark(gpu);
  const double gpu_s = after->seconds_since(*before);  // waits for the GPU
  const double host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  EXPECT_TRUE(after->reached());
  EXPECT_GT(gpu_s, 0.0);
  EXPECT_LE(gpu_s, host_s + 1e-3) << "the GPU's time fits within the host's wait for it";
}

TEST(StreamMarks, ACompletionMarkIsReachedWhenWhatItWaitedForIsDone_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  if (!dist::can_time_streams()) GTEST_SKIP() << "this LibTorch cannot time CUDA events";
  const torch::Device gpu(torch::kCUDA, 0);
  const c10::impl::VirtualGuardImpl impl(c10::kCUDA);
  auto start = dist::current_stream_mark(gpu);
  busy_gpu(gpu);
  c10::Event work_done(c10::kCUDA);
  work_done.record(impl.getStream(gpu));
  auto end = dist::current_stream_mark(gpu);
  // The side stream waits for the busy work, as it waits for a collective.
  const c10::Stream compute = impl.getStream(gpu);
  auto completion = dist::completion_mark(gpu, [&] {
    EXPECT_NE(impl.getStream(gpu), compute) << "the wait is made on a side stream";
    work_done.block(impl.getStream(gpu));
  });
  EXPECT_EQ(impl.getStream(gpu), compute) << "the compute stream is current again";
  const double busy = end->seconds_since(*start);
  const double until_completion = completion->seconds_since(*start);
  EXPECT_GT(busy, 0.0);
  EXPECT_GE(until_completion, busy - 1e-4) << "reached before the work it waited for was done";
}

}  // namespace
}  // namespace tandem::ddp
