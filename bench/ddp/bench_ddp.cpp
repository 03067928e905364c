// bench/ddp: Tandem's data-parallel step against its baselines, measured side
// by side in one run on one machine, printed as ratios (see README.md here).
//
//   bench_ddp [--batches 64,256,1024] [--repeats 2] [--python /usr/bin/python3]
//
// Every configuration runs as real processes: Tandem's through Tandem's
// launcher, PyTorch's through torch.distributed.run. Each worker builds the
// char_lstm model of the default recipe, draws its own random batches once
// (no data loading is timed), warms up, then times `steps` optimizer steps
// between two barriers. Configurations alternate within each repeat so that
// machine noise falls on all of them alike; the median over repeats is kept.
#include <sys/resource.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>

#include "data/text/alphabet.h"
#include "framework/ddp/distributed_data_parallel.h"
#include "framework/dist/communicator.h"
#include "framework/dist/world.h"
#include "launch/free_port.h"
#include "launch/launcher.h"
#include "models/char_lstm/char_lstm.h"
#include "framework/core/malloc_tuning.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using tandem::Batch;

namespace {

struct WorkerArgs {
  std::string mode = "ddp";  // plain | ddp | nosync | naive
  int64_t batch = 256;
  int64_t steps = 20;
  int64_t warmup = 3;
  int threads = 1;
  std::string hook = "allreduce";
  double first_bucket_mb = 1.0;  // Tandem's ddp.first_bucket_mb
  std::string out;
};

/// --first-bucket-mb, passed on to every Tandem worker.
double g_first_bucket_mb = 1.0;

/// CPU time of this process, split into the calling (compute) thread and all
/// the others (Gloo's and the reducer's), and the involuntary context switches:
/// a profile of where a step's time goes when workers share the cores.
struct CpuSample {
  double thread_s = 0, process_s = 0;
  long involuntary_switches = 0;
  static CpuSample now() {
    auto seconds = [](clockid_t id) {
      timespec t{};
      clock_gettime(id, &t);
      return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    };
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return {seconds(CLOCK_THREAD_CPUTIME_ID), seconds(CLOCK_PROCESS_CPUTIME_ID), u.ru_nivcsw};
  }
};

/// Gradient sync alone (comparison 5): the model's gradients all-reduced
/// through Tandem's buckets, against one raw c10d allreduce of the same bytes.
/// A loss linear in every parameter makes backward nearly free; the same
/// backward inside no_sync() is subtracted.
int run_sync_worker(tandem::models::CharLstm& model, tandem::dist::Communicator& comm, int rank, const WorkerArgs& a) {
  tandem::ddp::DdpOptions options;
  options.comm_hook = a.hook;
  options.first_bucket_mb = a.first_bucket_mb;
  tandem::ddp::DistributedDataParallel ddp(model, comm, options);
  const auto params = model.parameters();
  std::vector<torch::Tensor> weights;
  int64_t elements = 0;
  for (const auto& p : params) {
    weights.push_back(torch::randn_like(p));
    elements += p.numel();
  }
  auto backward = [&](bool sync) {
    ddp.zero_grad();
    std::optional<tandem::ddp::DistributedDataParallel::NoSync> guard;
    if (!sync) guard.emplace(ddp.reducer());
    ddp.before_forward();
    auto loss = torch::zeros({}, torch::kFloat);
    for (std::size_t i = 0; i < params.size(); ++i) loss = loss + (params[i] * weights[i]).sum();
    loss.backward();
  };
  auto timed = [&](const std::function<void()>& fn) {
    for (int k = 0; k < 3; ++k) fn();
    comm.barrier()->wait();
    const auto start = Clock::now();
    for (int64_t k = 0; k < a.steps; ++k) fn();
    comm.barrier()->wait();
    return std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(a.steps);
  };
  const double synced = timed([&] { backward(true); });
  const double local = timed([&] { backward(false); });
  auto flat = torch::randn({elements});
  const double raw = timed([&] { comm.allreduce(flat)->wait(); });
  if (rank == 0) {
    nlohmann::json r{{"mode", "sync"}, {"bytes", elements * 4}, {"synced_backward_s", synced},
                     {"local_backward_s", local}, {"sync_s", synced - local}, {"raw_allreduce_s", raw},
                     {"buckets", ddp.counters().buckets},
                     {"fraction_of_raw", raw / std::max(1e-9, synced - local)}};
    std::ofstream(a.out) << r.dump() << "\n";
  }
  return 0;
}

/// Four random batches of the default recipe's shape, drawn once per rank.
std::vector<Batch> random_batches(int64_t batch, int64_t context, int rank) {
  torch::manual_seed(100 + rank);
  std::vector<Batch> batches;
  for (int k = 0; k < 4; ++k) {
    Batch b;
    b.size = batch;
    b.fields["input"] = torch::randint(2, tandem::text::Alphabet::kSize, {batch, context});
    b.fields["target"] = torch::randint(1, tandem::text::Alphabet::kSize, {batch, context});
    batches.push_back(std::move(b));
  }
  return batches;
}

/// One optimizer step of a mode, timed in two parts: forward and backward
/// (with the mode's communication), and the optimizer.
struct StepRunner {
  const WorkerArgs& a;
  tandem::models::CharLstm& model;
  tandem::dist::Communicator& comm;
  std::optional<tandem::ddp::DistributedDataParallel>& ddp;
  torch::optim::Adam& opt;
  std::vector<Batch> batches;
  std::vector<torch::Tensor> params = model.parameters();
  double last_loss = 0.0;
  double backward_s = 0.0, optimizer_s = 0.0;

  void step(int64_t k) {
    const auto step_start = Clock::now();
    const Batch& batch = batches[static_cast<std::size_t>(k) % batches.size()];
    last_loss = ddp ? ddp_backward(batch) : plain_backward(batch);
    const auto before_opt = Clock::now();
    opt.step();
    backward_s += std::chrono::duration<double>(before_opt - step_start).count();
    optimizer_s += std::chrono::duration<double>(Clock::now() - before_opt).count();
  }

  double ddp_backward(const Batch& batch) {
    ddp->zero_grad();
    std::optional<tandem::ddp::DistributedDataParallel::NoSync> guard;
    if (a.mode == "nosync") guard.emplace(ddp->reducer());
    ddp->before_forward();
    auto loss = model.loss(batch, model.forward(batch));
    loss.backward();
    return loss.item<double>();
  }

  double plain_backward(const Batch& batch) {
    opt.zero_grad();
    auto loss = model.loss(batch, model.forward(batch));
    loss.backward();
    if (a.mode == "naive") {
      // LibTorch's C++ distributed example: after backward, all-reduce
      // every gradient on its own, wait, then average.
      for (const auto& p : params) {
        auto grad = p.grad();
        comm.allreduce(grad)->wait();
        grad.div_(comm.size());
      }
    }
    return loss.item<double>();
  }
};

/// Rank 0's record of a timed run.
nlohmann::json worker_record(const WorkerArgs& a, int world_size, double seconds, const StepRunner& runner,
                             const CpuSample& cpu_start, const CpuSample& cpu_end,
                             std::optional<tandem::ddp::DistributedDataParallel>& ddp) {
  nlohmann::json r{{"mode", a.mode},
                   {"world", world_size},
                   {"batch", a.batch},
                   {"steps", a.steps},
                   {"seconds", seconds},
                   {"samples_per_s", static_cast<double>(world_size * a.batch * a.steps) / seconds},
                   {"loss", runner.last_loss},
                   {"forward_backward_s", runner.backward_s},
                   {"optimizer_s", runner.optimizer_s},
                   {"compute_thread_cpu_s", cpu_end.thread_s - cpu_start.thread_s},
                   {"other_threads_cpu_s",
                    (cpu_end.process_s - cpu_start.process_s) - (cpu_end.thread_s - cpu_start.thread_s)},
                   {"involuntary_switches", cpu_end.involuntary_switches - cpu_start.involuntary_switches}};
  if (ddp) {
    const auto& c = ddp->counters();
    r["exposed_comm_s"] = c.exposed_comm_s;
    r["comm_s"] = c.comm_s;
    r["buckets"] = c.buckets;
    r["synced_steps"] = c.steps;  // comm_s and exposed_comm_s are totals over these
  }
  return r;
}

/// One worker: rank 0 writes {"samples_per_s": ...} to `out`.
int run_worker(const WorkerArgs& a) {
  // Every mode gets the allocator settings `tandem train` uses, so the world-1
  // comparison measures DDP and not glibc's moving mmap threshold.
  tandem::tune_malloc_for_training();
  torch::set_num_threads(a.threads);
  const auto world = tandem::dist::world_from_env();
  tandem::dist::DistOptions dist_options;
  dist_options.backend = "gloo";
  dist_options.timeout = std::chrono::seconds(120);
  auto comm = tandem::dist::connect(world, dist_options);
  torch::manual_seed(1);
  tandem::models::CharLstmOptions model_options;  // the default recipe's model: 128 hidden, 4 layers
  auto model = std::make_shared<tandem::models::CharLstm>(model_options);
  model->train();
  std::optional<tandem::ddp::DistributedDataParallel> ddp;
  if (a.mode == "ddp" || a.mode == "nosync") {
    tandem::ddp::DdpOptions options;
    options.comm_hook = a.hook;
    options.first_bucket_mb = a.first_bucket_mb;
    ddp.emplace(*model, *comm, options);
  }
  if (a.mode == "sync") return run_sync_worker(*model, *comm, world.rank, a);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(0.01));
  StepRunner runner{a, *model, *comm, ddp, opt, random_batches(a.batch, model_options.context, world.rank)};
  for (int64_t k = 0; k < a.warmup; ++k) runner.step(k);
  runner.backward_s = runner.optimizer_s = 0.0;
  comm->barrier()->wait();
  const auto start = Clock::now();
  const auto cpu_start = CpuSample::now();
  for (int64_t k = 0; k < a.steps; ++k) runner.step(k);
  const auto cpu_end = CpuSample::now();
  comm->barrier()->wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (world.rank == 0) {
    std::ofstream(a.out) << worker_record(a, world.world_size, seconds, runner, cpu_start, cpu_end, ddp).dump() << "\n";
  }
  return 0;
}

/// Steps per configuration: about the same amount of work for every batch size.
int64_t steps_for(int64_t batch, double scale) {
  return std::clamp<int64_t>(static_cast<int64_t>(scale * 20480.0 / static_cast<double>(batch)), 8, 120);
}

std::optional<nlohmann::json> read_result(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line) || line.empty()) return std::nullopt;
  return nlohmann::json::parse(line);
}

/// Runs one Tandem configuration through Tandem's launcher; rank 0's record.
std::optional<nlohmann::json> run_tandem_record(const std::string& self, const fs::path& tmp, const std::string& mode, int world,
                                 int64_t batch, int64_t steps, const std::string& hook) {
  const fs::path out = tmp / fmt::format("{}-{}-{}.json", mode, world, batch);
  fs::remove(out);
  tandem::launch::WorkerGroupSpec spec;
  spec.argv = {self, "--worker", "--mode", mode, "--batch", std::to_string(batch), "--steps", std::to_string(steps),
               "--hook", hook, "--first-bucket-mb", std::to_string(g_first_bucket_mb), "--out", out.string()};
  spec.nproc_per_node = world;
  spec.env["OMP_NUM_THREADS"] = "1";
  spec.timeout_s = 600;
  const auto result = tandem::launch::run_workers(spec);
  if (result.exit_code != 0) {
    std::cerr << fmt::format("[bench] tandem {} world {} batch {} failed: {}\n", mode, world, batch,
                             result.failure ? result.failure->describe() : "timeout");
    return std::nullopt;
  }
  return read_result(out);
}

std::optional<double> run_tandem(const std::string& self, const fs::path& tmp, const std::string& mode, int world,
                                 int64_t batch, int64_t steps, const std::string& hook) {
  auto r = run_tandem_record(self, tmp, mode, world, batch, steps, hook);
  if (!r) return std::nullopt;
  return (*r)["samples_per_s"].get<double>();
}

/// Runs PyTorch DDP through torch.distributed.run; empty when it cannot.
/// `tuned_malloc`: with the glibc settings Tandem's workers use (framework/core/malloc_tuning.h).
std::optional<double> run_python(const std::string& python, const fs::path& script, int world, int64_t batch,
                                 int64_t steps, bool no_sync, bool tuned_malloc) {
  const std::string cmd = fmt::format(
      "{}OMP_NUM_THREADS=1 timeout 600 '{}' '{}' launch --nproc {} --master-port {} -- --batch {} --steps {}{} 2>/dev/null",
      tuned_malloc ? "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 " : "", python,
      script.string(), world, tandem::launch::find_free_port(), batch, steps, no_sync ? " --no-sync" : "");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::optional<double> rate;
  char buf[4096];
  while (fgets(buf, sizeof buf, pipe) != nullptr) {
    const std::string line(buf);
    if (line.rfind("{\"impl\"", 0) == 0) rate = nlohmann::json::parse(line)["samples_per_s"].get<double>();
  }
  if (pclose(pipe) != 0) return std::nullopt;
  return rate;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

bool python_has_torch(const std::string& python) {
  return std::system(fmt::format("'{}' -c 'import torch' >/dev/null 2>&1", python).c_str()) == 0;
}

/// The benchmark's own options (not a worker's).
struct BenchOptions {
  std::vector<int64_t> batches{64, 256, 1024};
  int repeats = 2;
  double scale = 1.0;
  std::string python = "/usr/bin/python3";
  std::string hook = "allreduce";
};

/// Everything one run of the benchmark measured, over its repeats.
struct Measured {
  std::map<std::string, std::vector<double>> samples;  // "config" -> samples/s over repeats
  std::vector<double> sync_s, raw_s, exposed_over_comm;
  std::map<std::string, std::vector<nlohmann::json>> profiles;  // "ddp"/"nosync" at the largest batch
  int64_t sync_bytes = 0;

  void record(const std::string& key, std::optional<double> v) {
    if (v) samples[key].push_back(*v);
    std::cout << fmt::format("[bench] {:<28} {}\n", key, v ? fmt::format("{:9.0f} samples/s", *v) : "failed");
    std::cout.flush();
  }
  std::optional<double> median_of(const std::string& key) const {
    auto it = samples.find(key);
    if (it == samples.end() || it->second.empty()) return std::nullopt;
    return median(it->second);
  }
  std::string rate(const std::string& key) const {
    auto x = median_of(key);
    return x ? fmt::format("{:.0f}", *x) : std::string("n/a");
  }
  std::string ratio(const std::string& a, const std::string& b) const {
    auto x = median_of(a), y = median_of(b);
    return x && y ? fmt::format("{:.3f}", *x / *y) : std::string("n/a");
  }
};

/// Where the benchmark runs its workers from.
struct Runner {
  std::string self;
  fs::path tmp;
  fs::path script;
  bool have_python = false;
};

std::optional<double> samples_per_s(const std::optional<nlohmann::json>& r) {
  return r ? std::optional<double>((*r)["samples_per_s"].get<double>()) : std::nullopt;
}

/// One batch size at world 2: Tandem, PyTorch DDP (both malloc settings),
/// the no-sync bound and the naive pattern, alternating.
void run_batch(const BenchOptions& o, const Runner& run, int64_t b, Measured& m) {
  const int64_t s = steps_for(b, o.scale);
  const bool largest = b == o.batches.back();
  const auto ddp_record = run_tandem_record(run.self, run.tmp, "ddp", 2, b, s, o.hook);
  m.record(fmt::format("w2 tandem b{}", b), samples_per_s(ddp_record));
  if (ddp_record && largest) {
    m.profiles["ddp"].push_back(*ddp_record);
    if ((*ddp_record)["comm_s"].get<double>() > 0) {
      m.exposed_over_comm.push_back((*ddp_record)["exposed_comm_s"].get<double>() /
                                    (*ddp_record)["comm_s"].get<double>());
    }
  }
  if (run.have_python) {
    m.record(fmt::format("w2 python b{}", b), run_python(o.python, run.script, 2, b, s, false, false));
    m.record(fmt::format("w2 python+malloc b{}", b), run_python(o.python, run.script, 2, b, s, false, true));
  }
  const auto nosync_record = run_tandem_record(run.self, run.tmp, "nosync", 2, b, s, o.hook);
  m.record(fmt::format("w2 nosync b{}", b), samples_per_s(nosync_record));
  if (nosync_record && largest) m.profiles["nosync"].push_back(*nosync_record);
  m.record(fmt::format("w2 naive b{}", b), run_tandem(run.self, run.tmp, "naive", 2, b, s, o.hook));
}

/// One repeat of every configuration.
void run_repeat(const BenchOptions& o, const Runner& run, Measured& m) {
  const int64_t overhead_batch = 1024;
  const int64_t s1 = steps_for(overhead_batch, o.scale) / 2 + 4;
  m.record("w1 plain b1024", run_tandem(run.self, run.tmp, "plain", 1, overhead_batch, s1, o.hook));
  m.record("w1 tandem b1024", run_tandem(run.self, run.tmp, "ddp", 1, overhead_batch, s1, o.hook));
  for (int64_t b : o.batches) run_batch(o, run, b, m);
  const int64_t sync_steps = static_cast<int64_t>(40 * o.scale) + 10;
  if (auto sync = run_tandem_record(run.self, run.tmp, "sync", 2, 1, sync_steps, o.hook)) {
    m.sync_s.push_back((*sync)["sync_s"].get<double>());
    m.raw_s.push_back((*sync)["raw_allreduce_s"].get<double>());
    m.sync_bytes = (*sync)["bytes"].get<int64_t>();
    std::cout << fmt::format("[bench] {:<28} {:.2f} ms vs raw {:.2f} ms\n", "w2 gradient sync", 1e3 * m.sync_s.back(),
                             1e3 * m.raw_s.back());
  }
}

/// Comparisons 1 to 5: the ratios the targets are about.
void print_ratios(const BenchOptions& o, const Measured& m) {
  std::cout << fmt::format("\nTandem DDP benchmark: char_lstm 128x4, context 8, Adam, 1 thread per rank, Gloo, "
                           "hook {}, median of {} runs (global samples/s)\n\n", o.hook, o.repeats);
  std::cout << fmt::format("1. Overhead at world 1, batch 1024: plain loop {} vs Tandem DDP {} -> ratio {}\n\n",
                           m.rate("w1 plain b1024"), m.rate("w1 tandem b1024"),
                           m.ratio("w1 tandem b1024", "w1 plain b1024"));
  std::cout << "| batch/rank | Tandem w2 | PyTorch DDP w2 | PyTorch DDP w2, Tandem's malloc settings | no-sync bound | "
               "naive allreduce | 2. Tandem / PyTorch | 2b. Tandem / PyTorch, same malloc | 3. Tandem / bound | "
               "4. Tandem / naive |\n";
  std::cout << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (int64_t b : o.batches) {
    const auto t = fmt::format("w2 tandem b{}", b), p = fmt::format("w2 python b{}", b),
               n = fmt::format("w2 nosync b{}", b), v = fmt::format("w2 naive b{}", b),
               pm = fmt::format("w2 python+malloc b{}", b);
    std::cout << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", b, m.rate(t), m.rate(p),
                             m.rate(pm), m.rate(n), m.rate(v), m.ratio(t, p), m.ratio(t, pm), m.ratio(t, n),
                             m.ratio(t, v));
  }
  if (!m.sync_s.empty()) {
    const double sync = median(m.sync_s), raw = median(m.raw_s);
    std::cout << fmt::format("\n5. Gradient sync alone, {:.2f} MB: Tandem's buckets {:.2f} ms, one raw Gloo allreduce "
                             "{:.2f} ms -> fraction of raw bandwidth {:.3f}\n",
                             m.sync_bytes / 1e6, 1e3 * sync, 1e3 * raw, raw / sync);
  }
  if (!m.exposed_over_comm.empty()) {
    std::cout << fmt::format("   Exposed (not overlapped) communication at batch {}: {:.0f} % of communication time\n",
                             o.batches.back(), 100 * median(m.exposed_over_comm));
  }
}

/// Rank 0's view, per step, median over repeats: why Tandem at world 2 is
/// slower than the same run without communication.
void print_profile(const BenchOptions& o, const Measured& m) {
  const auto ddp = m.profiles.find("ddp"), nosync = m.profiles.find("nosync");
  if (ddp == m.profiles.end() || nosync == m.profiles.end()) return;
  auto per_step = [&](const std::vector<nlohmann::json>& records, const char* key, const char* steps = "steps") {
    std::vector<double> v;
    for (const auto& r : records) {
      v.push_back((r.contains(key) ? r[key].get<double>() : 0.0) / std::max(1.0, r.value(steps, 0.0)));
    }
    return median(v);
  };
  std::cout << fmt::format("\nWhere a step's time goes at batch {} (rank 0, per step, median of {}):\n\n",
                           o.batches.back(), o.repeats);
  std::cout << "| mode | wall ms | forward+backward ms | optimizer ms | compute thread CPU ms | other threads CPU ms "
               "| compute thread off CPU ms | involuntary switches | communication ms | exposed ms |\n";
  std::cout << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [label, records] : {std::make_pair("Tandem DDP", ddp->second),
                                       std::make_pair("no-sync bound", nosync->second)}) {
    const double wall = per_step(records, "seconds"), cpu = per_step(records, "compute_thread_cpu_s");
    std::cout << fmt::format("| {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.2f} | {:.2f} |\n",
                             label, 1e3 * wall, 1e3 * per_step(records, "forward_backward_s"),
                             1e3 * per_step(records, "optimizer_s"), 1e3 * cpu,
                             1e3 * per_step(records, "other_threads_cpu_s"), 1e3 * (wall - cpu),
                             per_step(records, "involuntary_switches"), 1e3 * per_step(records, "comm_s", "synced_steps"),
                             1e3 * per_step(records, "exposed_comm_s", "synced_steps"));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tandem DDP benchmark: overhead, PyTorch DDP, the no-communication bound, the naive pattern"};
  WorkerArgs w;
  BenchOptions o;
  bool worker = false;
  app.add_flag("--worker", worker, "run as one worker (used by the benchmark itself)");
  app.add_option("--mode", w.mode, "worker: plain | ddp | nosync | naive | sync");
  app.add_option("--batch", w.batch, "worker: batch per rank");
  app.add_option("--steps", w.steps, "worker: timed steps");
  app.add_option("--out", w.out, "worker: result file");
  app.add_option("--hook", o.hook, "Tandem's ddp.comm_hook: allreduce | fp16 | bf16");
  app.add_option("--first-bucket-mb", g_first_bucket_mb, "Tandem's ddp.first_bucket_mb (2 gives this model one bucket)");
  app.add_option("--batches", o.batches, "per-rank batch sizes for the world-2 comparisons")->delimiter(',');
  app.add_option("--repeats", o.repeats, "runs of every configuration; the median is reported");
  app.add_option("--scale", o.scale, "multiplies the number of timed steps (more: steadier, slower)");
  app.add_option("--python", o.python, "a Python with torch for the PyTorch DDP baseline");
  CLI11_PARSE(app, argc, argv);
  if (worker) {
    w.hook = o.hook;
    w.first_bucket_mb = g_first_bucket_mb;
    return run_worker(w);
  }

  Runner run;
  run.self = fs::read_symlink("/proc/self/exe").string();
  run.script = fs::path(TANDEM_SOURCE_DIR) / "bench/ddp/python_ddp.py";
  run.have_python = python_has_torch(o.python);
  if (!run.have_python) {
    std::cout << fmt::format("[bench] {} cannot import torch: the PyTorch DDP baseline is skipped "
                             "(install Debian's python3-torch: tools/setup.sh --bench)\n", o.python);
  }
  run.tmp = fs::temp_directory_path() / fmt::format("tandem-bench-ddp-{}", getpid());
  fs::create_directories(run.tmp);
  Measured m;
  for (int r = 0; r < o.repeats; ++r) {
    std::cout << fmt::format("[bench] repeat {}/{}\n", r + 1, o.repeats);
    run_repeat(o, run, m);
  }
  fs::remove_all(run.tmp);
  print_ratios(o, m);
  print_profile(o, m);
  return 0;
}
