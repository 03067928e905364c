// bench/gpu: Tandem's side of the GPU benchmark; bench/gpu/pytorch_char_lstm.py is
// PyTorch's, and bench/gpu/run.sh runs both and puts them side by side.
//
//   bench_gpu [--device auto|cuda|cpu] [--batches 64,256,...] [--precisions fp32,bf16]
//
// One training step of the benchmark's model (char_lstm from the model
// registry, built from bench/gpu/char_lstm_4x128.yaml's model: section) wrapped in
// tandem::ddp::DistributedDataParallel at world 1, with the recipe's Adam. The
// batch is made once from the names corpus and stays on the device, so no data
// movement is timed. Per (batch, precision): warm-up steps, then `windows`
// timed windows of k steps each, every window bracketed by a device
// synchronisation; k is chosen so a window lasts about --window-s. The step
// time printed is the median over windows. One JSON line per measurement, with
// the same fields as the PyTorch side's.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "data/names/char_windows.h"
#include "data/names/names_file.h"
#include "framework/core/malloc_tuning.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/dist/communicator.h"
#include "framework/dist/world.h"
#include "framework/train/device.h"
#include "framework/train/model.h"
#include "framework/train/optimizer.h"
#include "framework/train/precision.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string device = "auto";
  std::vector<int64_t> batches{64, 256, 1024, 4096, 16384, 65536};
  std::vector<std::string> precisions{"fp32", "bf16"};
  int warmup = 5;
  int windows = 5;
  double window_s = 0.25;
  int min_steps = 3;
  int max_steps = 200;
  int threads = 0;
  std::string recipe = std::string(TANDEM_SOURCE_DIR) + "/bench/gpu/char_lstm_4x128.yaml";
  std::string names = std::string(TANDEM_SOURCE_DIR) + "/data/corpora/names.txt";
};

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// The benchmark's batch: rows (i * 7919) mod N of the corpus' training
/// windows, i = 0..B-1, where the PyTorch side takes the same rows.
tandem::Batch make_batch(const tandem::data::CharWindows& windows, int64_t batch, const torch::Device& device) {
  auto rows = torch::arange(batch, torch::kInt64).mul_(7919).remainder_(windows.size());
  tandem::Batch b;
  b.size = batch;
  b.fields["input"] = windows.inputs().index_select(0, rows).to(device);
  b.fields["target"] = windows.targets().index_select(0, rows).to(device);
  return b;
}

struct Measurement {
  int64_t steps = 0;  ///< per window
  std::vector<double> step_s;  ///< per window
  double first_loss = 0.0;  ///< of the first step: the same on both sides for the same model and data
  double loss = 0.0;  ///< of the last step
};

/// Warm up, pick the steps per window from the warm-up's pace, time the windows.
Measurement time_steps(const std::function<torch::Tensor()>& step, const torch::Device& device, const Args& a) {
  Measurement m;
  torch::Tensor loss = step();
  m.first_loss = loss.item<double>();
  for (int k = 1; k < std::max(1, a.warmup - 2); ++k) loss = step();
  synchronize(device);
  auto start = Clock::now();
  for (int k = 0; k < 2; ++k) loss = step();
  synchronize(device);
  const double pace = std::chrono::duration<double>(Clock::now() - start).count() / 2.0;
  m.steps = std::clamp<int64_t>(static_cast<int64_t>(a.window_s / std::max(pace, 1e-6)), a.min_steps, a.max_steps);
  for (int w = 0; w < a.windows; ++w) {
    synchronize(device);
    start = Clock::now();
    for (int64_t k = 0; k < m.steps; ++k) loss = step();
    synchronize(device);
    m.step_s.push_back(std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(m.steps));
  }
  m.loss = loss.item<double>();
  return m;
}

nlohmann::json measure(const YAML::Node& recipe, const tandem::data::CharWindows& windows, tandem::dist::Communicator& comm,
                       const torch::Device& device, int64_t batch_size, const std::string& precision, const Args& a) {
  torch::manual_seed(0);
  auto model = tandem::create_model(recipe["model"]);
  // Onto the device before DDP: DDP keeps each parameter's gradient
  // accumulator and allocates its buckets where the parameters are.
  model->to(device);
  model->train();
  tandem::ddp::DistributedDataParallel ddp(*model, comm);
  tandem::OptimOptions optim;
  optim.lr = recipe["optim"]["lr"].as<double>();
  auto optimizer = tandem::make_optimizer(optim, model->parameters());
  const tandem::Batch batch = make_batch(windows, batch_size, device);
  // The trainer's own mixed precision: bf16 is trainer.precision=bf16-mixed.
  const tandem::MixedPrecision mixed(precision == "bf16" ? "bf16-mixed" : "32", device);

  auto step = [&]() {
    ddp.zero_grad();
    ddp.before_forward();
    torch::Tensor loss;
    {
      const auto autocast = mixed.autocast();
      loss = model->loss(batch, model->forward(batch));
    }
    loss.backward();
    optimizer->step();
    return loss.detach();
  };
  const Measurement m = time_steps(step, device, a);
  const double step_s = median(m.step_s);
  return {{"side", "tandem"},
          {"variant", "ddp"},
          {"device", device.str()},
          {"precision", precision},
          {"batch", batch_size},
          {"steps", m.steps},
          {"windows", a.windows},
          {"step_ms", 1e3 * step_s},
          {"step_ms_min", 1e3 * *std::min_element(m.step_s.begin(), m.step_s.end())},
          {"step_ms_max", 1e3 * *std::max_element(m.step_s.begin(), m.step_s.end())},
          {"samples_per_s", static_cast<double>(batch_size) / step_s},
          {"first_loss", m.first_loss},
          {"loss", m.loss},
          {"comm", comm.backend()}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tandem's side of the GPU benchmark: char_lstm under Tandem DDP at world 1, one JSON line per "
               "measurement (bench/gpu/run.sh puts PyTorch beside it)"};
  Args a;
  app.add_option("--device", a.device, "auto | cuda | cpu | cuda:N, as trainer.device (cuda is cuda:LOCAL_RANK)");
  app.add_option("--batches", a.batches, "batch sizes")->delimiter(',');
  app.add_option("--precisions", a.precisions, "fp32 and/or bf16 (bf16 autocast for forward and loss)")
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "bf16"}));
  app.add_option("--warmup", a.warmup, "untimed steps before the windows");
  app.add_option("--windows", a.windows, "timed windows; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--window-s", a.window_s, "about how long a window lasts (sets its number of steps)");
  app.add_option("--min-steps", a.min_steps, "steps per window at least")->check(CLI::PositiveNumber);
  app.add_option("--max-steps", a.max_steps, "steps per window at most")->check(CLI::PositiveNumber);
  app.add_option("--threads", a.threads, "CPU threads for LibTorch (0: its default)");
  app.add_option("--recipe", a.recipe, "the recipe whose model: and optim.lr are benchmarked");
  app.add_option("--names", a.names, "the names corpus the batch is drawn from");
  CLI11_PARSE(app, argc, argv);

  try {
    tandem::tune_malloc_for_training();  // as `tandem train` does
    if (a.threads > 0) torch::set_num_threads(a.threads);
    // As a worker resolves trainer.device: cuda is cuda:LOCAL_RANK.
    const auto world = tandem::dist::world_from_env();
    const torch::Device device =
        tandem::resolve_device(a.device, tandem::device_context(world.local_rank, world.local_world_size));
    tandem::make_current(device);
    if (device.is_cuda()) torch::cuda::synchronize(device.index());  // initialise the device before any timing
    const YAML::Node recipe = YAML::LoadFile(a.recipe);
    const tandem::data::CharWindows windows(tandem::data::read_names(a.names),
                                            recipe["model"]["context"].as<int64_t>());
    // World 1: dist::connect gives the local communicator, whose collectives
    // are complete at once; DDP still runs its buckets and hooks.
    auto comm = tandem::dist::connect(world, tandem::dist::DistOptions{});
    std::cout << nlohmann::json{{"side", "tandem"}, {"torch", TORCH_VERSION}, {"device", device.str()},
                                {"threads", torch::get_num_threads()}, {"windows_in_corpus", windows.size()},
                                {"comm", comm->backend()}}
                     .dump()
              << std::endl;
    int failures = 0;
    for (const auto& precision : a.precisions) {
      for (int64_t batch : a.batches) {
        try {
          std::cout << measure(recipe, windows, *comm, device, batch, precision, a).dump() << std::endl;
        } catch (const std::exception& e) {
          ++failures;
          std::string what = e.what();
          what = what.substr(0, what.find('\n'));
          std::cout << nlohmann::json{{"side", "tandem"}, {"variant", "ddp"}, {"device", device.str()},
                                      {"precision", precision}, {"batch", batch}, {"error", what}}
                           .dump()
                    << std::endl;
        }
      }
    }
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "[bench] " << e.what() << "\n";
    return 2;
  }
}
