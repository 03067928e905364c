// LogisticRegression::fit_full_batch: each rank materialises its shard of the
// training rows, standardises it in place, and runs the recipe's solver on a
// ShardLoss; rank 0 logs every iteration to metrics.jsonl, then writes the
// final metrics, the coefficients (CSV and JSON) and a checkpoint.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/logistic/labelled_rows.h"
#include "framework/core/atomic_file.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/train/checkpoint.h"
#include "framework/train/metrics_writer.h"
#include "framework/core/version.h"
#include "models/logistic_regression/binary_metrics.h"
#include "models/logistic_regression/logistic_regression.h"
#include "models/logistic_regression/shard_loss.h"

namespace tandem::models {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

struct Shard {
  torch::Tensor x, y;
};

/// This rank's block of `rows`, standardised with the model's statistics.
Shard load_shard(const data::LabelledRows& rows, int rank, int world, const torch::Tensor& mean,
                 const torch::Tensor& scale, bool standardise) {
  const auto [begin, end] = data::shard_range(rows.size(), rank, world);
  Shard s;
  s.x = torch::empty({end - begin, rows.features()}, torch::kFloat64);
  s.y = torch::empty({end - begin}, torch::kFloat64);
  rows.fill(begin, end, s.x.data_ptr<double>(), s.y.data_ptr<double>());
  if (standardise) s.x.sub_(mean).div_(scale);  // in place: no second copy of the shard
  return s;
}

/// Log-loss, accuracy and AUC over every rank's rows. AUC needs all scores in
/// one place: they are gathered (padded to the largest shard) on every rank.
BinaryMetrics distributed_metrics(ShardLoss& loss, const torch::Tensor& y, const std::vector<double>& w,
                                  dist::Communicator& comm) {
  const int64_t n_local = y.size(0);
  auto z = torch::empty({n_local}, torch::kFloat64);
  loss.margins(w.data(), z);
  const BinarySums s = binary_sums(z.data_ptr<double>(), y.data_ptr<double>(), n_local);
  auto sums = torch::tensor({s.log_loss, s.correct, s.rows}, torch::kFloat64);
  comm.allreduce(sums)->wait();
  BinaryMetrics m;
  m.rows = static_cast<int64_t>(sums[2].item<double>());
  m.log_loss = sums[0].item<double>() / sums[2].item<double>();
  m.accuracy = sums[1].item<double>() / sums[2].item<double>();

  auto size = torch::tensor({static_cast<double>(n_local)}, torch::kFloat64);
  comm.allreduce(size, dist::ReduceOp::kMax)->wait();
  const auto max_rows = static_cast<int64_t>(size.item<double>());
  // Scores and labels side by side; padding rows carry label -1.
  auto mine = torch::full({max_rows, 2}, -1.0, torch::kFloat64);
  mine.narrow(0, 0, n_local).select(1, 0).copy_(z);
  mine.narrow(0, 0, n_local).select(1, 1).copy_(y);
  std::vector<at::Tensor> all(static_cast<size_t>(comm.size()));
  for (auto& t : all) t = torch::empty_like(mine);
  comm.allgather(all, mine)->wait();
  std::vector<double> scores, labels;
  scores.reserve(static_cast<size_t>(m.rows));
  labels.reserve(static_cast<size_t>(m.rows));
  for (const auto& t : all) {
    const double* p = t.data_ptr<double>();
    for (int64_t i = 0; i < max_rows; ++i) {
      if (p[2 * i + 1] < 0) continue;
      scores.push_back(p[2 * i]);
      labels.push_back(p[2 * i + 1]);
    }
  }
  m.auc = roc_auc(scores, labels);
  return m;
}

nlohmann::json metrics_json(const BinaryMetrics& m) {
  return {{"log_loss", m.log_loss},
          {"accuracy", m.accuracy},
          {"auc", std::isnan(m.auc) ? nlohmann::json(nullptr) : nlohmann::json(m.auc)},
          {"rows", m.rows}};
}

void write_coefficients(const std::filesystem::path& dir, const LogisticRegression& model, const SolverResult& r) {
  const auto w = model.coefficients();
  const auto original = model.original_scale_coefficients();
  const int64_t d = model.features();
  std::string csv = "name,coefficient,original_scale\n";
  for (int64_t j = 0; j < d; ++j) csv += fmt::format("x{},{:.17g},{:.17g}\n", j, w[j], original[j]);
  csv += fmt::format("intercept,{:.17g},{:.17g}\n", model.options().intercept ? w[d] : 0.0, original[d]);
  write_file_atomically(dir / "coefficients.csv", csv);
  nlohmann::json j;
  j["coefficients"] = std::vector<double>(w.begin(), w.begin() + d);
  j["intercept"] = model.options().intercept ? w[d] : 0.0;
  j["original_scale"] = {{"coefficients", std::vector<double>(original.begin(), original.begin() + d)},
                         {"intercept", original[d]}};
  j["feature_mean"] = std::vector<double>(model.feature_mean().data_ptr<double>(),
                                          model.feature_mean().data_ptr<double>() + d);
  j["feature_scale"] = std::vector<double>(model.feature_scale().data_ptr<double>(),
                                           model.feature_scale().data_ptr<double>() + d);
  j["lambda"] = model.options().penalty.lambda;
  j["l1_ratio"] = model.options().penalty.alpha;
  j["solver"] = model.options().solver;
  j["objective"] = r.objective;
  j["optimality"] = r.optimality;
  j["iterations"] = r.iterations;
  j["converged"] = r.converged;
  write_file_atomically(dir / "coefficients.json", j.dump(2) + "\n");
}

}  // namespace

TrainResult LogisticRegression::fit_full_batch(const FullBatchSetup& setup) {
  if (setup.comm == nullptr) throw std::invalid_argument("fit_full_batch needs a communicator");
  // The solvers read and write float64 through host pointers: the model lives
  // on the CPU, whatever device a minibatch run of the same worker would use.
  to(torch::kCPU);
  dist::Communicator& comm = *setup.comm;
  const RankZero rank_zero(comm.rank());
  const auto* train = dynamic_cast<const data::LabelledRows*>(setup.data.train.get());
  if (train == nullptr) throw BadInput("model logistic_regression: expected data of type logistic_synthetic or csv");
  const bool standardise = train->scaling().has_value();

  const auto data_start = clock_type::now();
  Shard shard = load_shard(*train, comm.rank(), comm.size(), mean_, scale_, standardise);
  const double data_seconds = seconds_since(data_start);
  rank_zero.info("logistic", "{} rows x {} features over {} workers; shard of {} rows made in {:.2f} s",
                 train->size(), train->features(), comm.size(), shard.y.size(0), data_seconds);

  ShardLoss loss(shard.x, shard.y, options_.intercept, train->size(), comm, options_.block_rows,
                 options_.hessian_sample);
  std::optional<MetricsWriter> writer;
  if (setup.run_dir) writer.emplace(setup.run_dir->metrics(), rank_zero.active());
  auto log = [&](const IterationRecord& r, const Vec&) {
    nlohmann::json j = {{"kind", "iteration"}, {"solver", options_.solver}, {"iteration", r.iteration}, {"objective", r.objective},
                        {"grad_norm", r.optimality}, {"seconds", r.seconds}, {"evaluations", r.evaluations}};
    if (options_.solver_options.kind == SolverKind::kAdmm) {
      j["primal_residual"] = r.primal_residual;
      j["dual_residual"] = r.dual_residual;
    }
    if (writer) writer->write(j);
    if (r.iteration <= 5 || r.iteration % 10 == 0) {
      rank_zero.info("logistic", "{} iter {:4d}  objective {:.12g}  grad_norm {:.3e}  {:.3f} s", options_.solver,
                     r.iteration, r.objective, r.optimality, r.seconds);
    }
  };
  const SolverResult result = solve(loss, options_.penalty, options_.solver_options, {}, log);
  set_coefficients(result.w);
  rank_zero.info("logistic", "{} {} after {} iterations ({} passes) in {:.3f} s: objective {:.12g}, grad_norm {:.3e}",
                 options_.solver, result.converged ? "converged" : "stopped", result.iterations, result.evaluations,
                 result.seconds, result.objective, result.optimality);

  nlohmann::json final = {{"kind", "final"},
                          {"solver", options_.solver},
                          {"converged", result.converged},
                          {"iterations", result.iterations},
                          {"evaluations", result.evaluations},
                          {"objective", result.objective},
                          {"grad_norm", result.optimality},
                          {"solve_seconds", result.seconds},
                          {"data_seconds", data_seconds},
                          {"world_size", comm.size()}};
  const BinaryMetrics train_metrics = distributed_metrics(loss, shard.y, result.w, comm);
  final["train"] = metrics_json(train_metrics);
  rank_zero.info("logistic", "train: log_loss {:.6f}  accuracy {:.4f}  auc {:.4f}", train_metrics.log_loss,
                 train_metrics.accuracy, train_metrics.auc);
  if (const auto* val = dynamic_cast<const data::LabelledRows*>(setup.data.val.get())) {
    Shard vs = load_shard(*val, comm.rank(), comm.size(), mean_, scale_, standardise);
    ShardLoss val_loss(vs.x, vs.y, options_.intercept, val->size(), comm, options_.block_rows);
    const BinaryMetrics m = distributed_metrics(val_loss, vs.y, result.w, comm);
    final["val"] = metrics_json(m);
    rank_zero.info("logistic", "val: log_loss {:.6f}  accuracy {:.4f}  auc {:.4f}", m.log_loss, m.accuracy, m.auc);
  }
  if (writer) writer->write(final);

  if (setup.run_dir && rank_zero.active()) {
    write_coefficients(setup.run_dir->root(), *this, result);
    std::filesystem::create_directories(setup.run_dir->checkpoints());
    save_checkpoint(checkpoint_path(setup.run_dir->checkpoints(), result.iterations), *this, nullptr,
                    {{0, result.iterations, result.iterations}, setup.config_yaml, TANDEM_VERSION});
    rank_zero.info("logistic", "coefficients in {}", (setup.run_dir->root() / "coefficients.csv").string());
  }
  comm.barrier()->wait();  // rank 0 hosts the store: nobody leaves while a peer still works

  TrainResult out;
  out.global_step = result.iterations;
  out.seconds = result.seconds;
  out.last_loss = result.objective;
  return out;
}

}  // namespace tandem::models
