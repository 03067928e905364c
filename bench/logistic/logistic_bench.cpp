// bench/logistic: each Tandem full-batch solver at 1 and 2 workers against
// scikit-learn's lbfgs, on the same synthetic rows (run.sh drives it).
//
//   logistic_bench dump --rows N --columns D --out DIR   the rows as raw float64 for scikit-learn
//   logistic_bench run  --rows N --columns D --out DIR [--sklearn DIR/sklearn.json]
//
// `run` starts itself as 1, then 2 workers through Tandem's launcher. Each
// worker generates its shard (timed apart), computes the exact optimum w* by
// Newton to 1e-12 (not counted), then runs every solver and records the solver
// time at which |w - w*| / |w*| first falls to scikit-learn's own error (or
// 1e-4 without scikit-learn), and its peak memory. The objective is
// scikit-learn's with C = 1: mean log-loss + |beta|^2 / (2 n), i.e. lambda = 1/n.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/logistic/synthetic.h"
#include "framework/dist/communicator.h"
#include "launch/launcher.h"
#include "models/logistic_regression/shard_loss.h"
#include "models/logistic_regression/solvers.h"

namespace {

using namespace tandem;
using models::SolverKind;
using json = nlohmann::json;

struct Args {
  int64_t rows = 8000000;
  int64_t columns = 15;
  uint64_t seed = 0;
  std::string out;
  std::string sklearn;
  std::vector<int> workers{1, 2};
  int64_t block_rows = 16384;
  int64_t admm_inner_iter = 1;
  std::vector<std::string> solvers{"newton", "newton@0.125", "lbfgs", "admm", "admm@0.125", "proximal", "gd"};
};

data::SyntheticSpec spec(const Args& a) {
  data::SyntheticSpec s;
  s.rows = a.rows;
  s.columns = a.columns;
  s.seed = a.seed;
  s.intercept = 0.5;
  s.coefficients = data::synthetic_coefficients(a.columns, a.seed, {}, 1.0);
  return s;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double rel_error(const models::Vec& w, const models::Vec& ref) {
  double num = 0, den = 0;
  for (size_t j = 0; j < w.size(); ++j) num += (w[j] - ref[j]) * (w[j] - ref[j]), den += ref[j] * ref[j];
  return std::sqrt(num / den);
}

int dump(const Args& a) {
  data::SyntheticRows rows(spec(a), 0, a.rows);
  std::ofstream x(a.out + "/X.f64", std::ios::binary), y(a.out + "/y.f64", std::ios::binary);
  const int64_t block = 1 << 18;
  std::vector<double> xb(static_cast<size_t>(block * a.columns)), yb(static_cast<size_t>(block));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t b = 0; b < a.rows; b += block) {
    const int64_t e = std::min(a.rows, b + block);
    rows.fill(b, e, xb.data(), yb.data());
    x.write(reinterpret_cast<const char*>(xb.data()), static_cast<std::streamsize>((e - b) * a.columns * 8));
    y.write(reinterpret_cast<const char*>(yb.data()), static_cast<std::streamsize>((e - b) * 8));
  }
  std::printf("[bench] wrote %lld x %lld rows for scikit-learn in %.1f s\n", static_cast<long long>(a.rows),
              static_cast<long long>(a.columns),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return x && y ? 0 : 1;
}

/// One worker of `run`: writes DIR/world<N>_rank<r>.json.
int worker(const Args& a) {
  const auto world = dist::world_from_env();
  auto comm = dist::connect(world, {"gloo", std::chrono::seconds(600)});
  const auto [begin, end] = data::shard_range(a.rows, world.rank, world.world_size);
  data::SyntheticRows rows(spec(a), 0, a.rows);
  auto t0 = std::chrono::steady_clock::now();
  auto x = torch::empty({end - begin, a.columns}, torch::kFloat64);
  auto y = torch::empty({end - begin}, torch::kFloat64);
  rows.fill(begin, end, x.data_ptr<double>(), y.data_ptr<double>());
  const double data_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  comm->barrier()->wait();

  models::ShardLoss loss(x, y, true, a.rows, *comm, a.block_rows);
  models::Penalty penalty;
  penalty.lambda = 1.0 / static_cast<double>(a.rows);  // scikit-learn's C = 1
  models::SolverOptions ref_options;
  ref_options.kind = SolverKind::kNewton;
  ref_options.tol = 1e-12;
  ref_options.max_iter = 100;
  const auto reference = models::solve(loss, penalty, ref_options);

  double target = 1e-4;
  json out;
  if (!a.sklearn.empty()) {
    std::ifstream in(a.sklearn);
    const json sk = json::parse(in);
    target = rel_error(sk["coefficients"].get<std::vector<double>>(), reference.w);
    out["sklearn"] = sk;
    out["sklearn"]["rel_error"] = target;
  }
  out["target_rel_error"] = target;
  out["data_seconds"] = data_seconds;
  out["reference"] = {{"seconds", reference.seconds}, {"iterations", reference.iterations},
                      {"optimality", reference.optimality}, {"objective", reference.objective}};
  for (const auto& name : a.solvers) {
    // "newton@0.125": the solver with the Hessian from that share of the blocks.
    const auto at = name.find('@');
    const double sample = at == std::string::npos ? 1.0 : std::stod(name.substr(at + 1));
    models::ShardLoss sampled(x, y, true, a.rows, *comm, a.block_rows, sample);
    models::SolverOptions o;
    o.kind = models::solver_kind(name.substr(0, at));
    o.admm_inner_iter = a.admm_inner_iter;
    o.tol = 1e-9;
    o.max_iter = o.kind == SolverKind::kGradientDescent ? 400 : (o.kind == SolverKind::kProximal ? 400 : 200);
    double elapsed = 0, reached = -1;
    int64_t reached_iter = -1;
    auto r = models::solve(sampled, penalty, o, {}, [&](const models::IterationRecord& rec, const models::Vec& w) {
      elapsed += rec.seconds;
      if (reached < 0 && rel_error(w, reference.w) <= target) reached = elapsed, reached_iter = rec.iteration;
    });
    out["solvers"][name] = {{"seconds_to_target", reached < 0 ? json(nullptr) : json(reached)},
                            {"iterations_to_target", reached_iter},
                            {"seconds", r.seconds},
                            {"iterations", r.iterations},
                            {"evaluations", r.evaluations},
                            {"converged", r.converged},
                            {"rel_error", rel_error(r.w, reference.w)},
                            {"objective", r.objective}};
  }
  out["peak_rss_mb"] = peak_rss_mb();
  out["threads"] = torch::get_num_threads();
  std::ofstream(fmt::format("{}/world{}_rank{}.json", a.out, world.world_size, world.rank)) << out.dump(1);
  comm->barrier()->wait();
  return 0;
}

int run(const Args& a, const std::vector<std::string>& argv) {
  std::map<int, std::vector<json>> results;
  for (int w : a.workers) {
    launch::WorkerGroupSpec spec;
    spec.argv = argv;
    spec.nproc_per_node = w;
    spec.env["TANDEM_BENCH_WORKER"] = "1";
    spec.timeout_s = 1800;
    std::printf("[bench] %d worker(s)...\n", w);
    std::fflush(stdout);
    const auto r = launch::run_workers(spec);
    if (r.exit_code != 0) {
      std::fprintf(stderr, "[bench] %d worker(s) failed: %s\n", w, r.failure ? r.failure->describe().c_str() : "");
      return 1;
    }
    for (int rank = 0; rank < w; ++rank) {
      std::ifstream in(fmt::format("{}/world{}_rank{}.json", a.out, w, rank));
      results[w].push_back(json::parse(in));
    }
  }
  const json& first = results.begin()->second.front();
  const bool has_sklearn = first.contains("sklearn");
  const double sk_seconds = has_sklearn ? first["sklearn"]["seconds"].get<double>() : NAN;
  std::printf("\nlogistic regression, %lld x %lld float64, lambda = 1/n (scikit-learn C = 1)\n",
              static_cast<long long>(a.rows), static_cast<long long>(a.columns));
  if (has_sklearn) {
    std::printf("scikit-learn lbfgs: %.3f s fit (%d iterations), rel. coefficient error %.2e, peak %.0f MB\n",
                sk_seconds, first["sklearn"]["iterations"].get<int>(), first["target_rel_error"].get<double>(),
                first["sklearn"]["peak_rss_mb"].get<double>());
  } else {
    std::printf("scikit-learn: skipped; target rel. coefficient error 1e-4\n");
  }
  std::printf("target: |w - w*| / |w*| <= %.2e, w* from Newton to sup-norm gradient 1e-12\n\n",
              first["target_rel_error"].get<double>());
  std::printf("%-13s %7s %12s %8s %11s %10s %10s %12s %14s\n", "solver", "workers", "to target s", "iters",
              "sklearn/x", "total s", "converged", "data gen s", "peak MB/worker");
  for (const auto& name : a.solvers) {
    for (const auto& [w, ranks] : results) {
      const json& s = ranks.front()["solvers"][name];
      double peak = 0, data = 0;
      for (const auto& r : ranks) {
        peak = std::max(peak, r["peak_rss_mb"].get<double>());
        data = std::max(data, r["data_seconds"].get<double>());
      }
      const bool reached = !s["seconds_to_target"].is_null();
      const double t = reached ? s["seconds_to_target"].get<double>() : NAN;
      std::printf("%-13s %7d %12s %8s %11s %10.3f %10s %12.2f %14.0f\n", name.c_str(), w,
                  reached ? fmt::format("{:.3f}", t).c_str() : "not reached",
                  reached ? std::to_string(s["iterations_to_target"].get<int64_t>()).c_str() : "-",
                  has_sklearn && reached ? fmt::format("{:.1f}x", sk_seconds / t).c_str() : "-",
                  s["seconds"].get<double>(), s["converged"].get<bool>() ? "yes" : "no", data, peak);
    }
  }
  std::printf("\nsklearn/x: scikit-learn's fit time over the solver's time to reach its accuracy.\n"
              "solver@f: the Hessian from a share f of the blocks (model.hessian_sample).\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  std::string solvers;
  CLI::App app("Logistic regression: Tandem's full-batch solvers against scikit-learn.");
  app.require_subcommand(1);
  for (auto* cmd : {app.add_subcommand("dump", "Write the rows as raw float64 (X.f64, y.f64) for scikit-learn."),
                    app.add_subcommand("run", "Run every solver at each worker count.")}) {
    cmd->add_option("--rows", a.rows, "Rows")->check(CLI::PositiveNumber);
    cmd->add_option("--columns", a.columns, "Columns")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a.seed, "Seed");
    cmd->add_option("--out", a.out, "Working directory")->required();
    cmd->add_option("--sklearn", a.sklearn, "scikit-learn's result (sklearn_fit.py's JSON)");
    cmd->add_option("--workers", a.workers, "Worker counts")->delimiter(',');
    cmd->add_option("--solvers", a.solvers, "Solvers")->delimiter(',');
    cmd->add_option("--block-rows", a.block_rows, "Rows per block of a pass (model.block_rows)");
    cmd->add_option("--admm-inner-iter", a.admm_inner_iter, "ADMM: Newton steps at most per local solve");
  }
  CLI11_PARSE(app, argc, argv);
  try {
    if (app.got_subcommand("dump")) return dump(a);
    if (std::getenv("TANDEM_BENCH_WORKER") != nullptr) return worker(a);
    std::vector<std::string> self(argv, argv + argc);
    self[0] = std::filesystem::read_symlink("/proc/self/exe").string();
    return run(a, self);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[bench] %s\n", e.what());
    return 1;
  }
}
