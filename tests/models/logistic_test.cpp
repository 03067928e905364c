// logistic_regression: the shard loss against autograd, every full-batch
// solver against a tightly converged reference (with and without penalties),
// exact zeros under L1, the same solution at world 1 and world 2 (real
// processes over Gloo), metrics against textbook values, and scikit-learn
// when it is installed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/logistic/synthetic.h"
#include "models/logistic_regression/binary_metrics.h"
#include "models/logistic_regression/logistic_regression.h"
#include "models/logistic_regression/shard_loss.h"
#include "models/logistic_regression/solvers.h"
#include "tests/support/multiprocess.h"

namespace tandem::models {
namespace {

constexpr int64_t kRows = 3000;
constexpr int64_t kCols = 6;

data::SyntheticSpec spec() {
  data::SyntheticSpec s;
  s.rows = kRows;
  s.columns = kCols;
  s.seed = 11;
  s.coefficients = {1.5, -2.0, 0.0, 0.0, 0.7, -0.3};
  s.intercept = 0.4;
  return s;
}

struct Shard {
  torch::Tensor x, y;
};

/// Rows [begin, end) of the test table; the columns are shifted and scaled so
/// the problem is not trivially conditioned.
Shard rows(int64_t begin, int64_t end) {
  data::SyntheticRows table(spec(), 0, kRows);
  Shard s{torch::empty({end - begin, kCols}, torch::kFloat64), torch::empty({end - begin}, torch::kFloat64)};
  table.fill(begin, end, s.x.data_ptr<double>(), s.y.data_ptr<double>());
  s.x.mul_(torch::tensor({1.0, 2.0, 0.5, 1.0, 3.0, 1.0}, torch::kFloat64)).add_(0.2);
  return s;
}

struct Problem {
  Shard data = rows(0, kRows);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();
  ShardLoss loss{data.x, data.y, true, kRows, *comm, /*block_rows=*/512};  // several blocks
};

Penalty penalty(double lambda, double alpha) {
  Penalty p;
  p.lambda = lambda;
  p.alpha = alpha;
  return p;
}

SolverOptions options(SolverKind kind, double tol = 1e-10, int64_t max_iter = 20000) {
  SolverOptions o;
  o.kind = kind;
  o.tol = tol;
  o.max_iter = max_iter;
  return o;
}

TEST(ShardLoss, MatchesAutogradValueGradientAndHessian) {
  Problem pr;
  const Vec w = {0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.1};
  Vec g(7), h(49);
  const double f = pr.loss.mean(w.data(), g.data(), h.data());

  auto wt = torch::tensor(w, torch::kFloat64).requires_grad_(true);
  auto objective = [&](const torch::Tensor& v) {
    auto z = pr.data.x.mv(v.narrow(0, 0, kCols)) + v[kCols];
    return torch::binary_cross_entropy_with_logits(z, pr.data.y);
  };
  auto ft = objective(wt);
  auto gt = torch::autograd::grad({ft}, {wt}, {}, true, true)[0];
  EXPECT_NEAR(f, ft.item<double>(), 1e-13);
  for (int64_t j = 0; j < 7; ++j) {
    EXPECT_NEAR(g[j], gt[j].item<double>(), 1e-13) << j;
    auto row = torch::autograd::grad({gt[j]}, {wt}, {}, true)[0];
    for (int64_t k = 0; k < 7; ++k) EXPECT_NEAR(h[j * 7 + k], row[k].item<double>(), 1e-12) << j << "," << k;
  }
  // The value alone, and local() on a world of one, agree with mean().
  EXPECT_DOUBLE_EQ(pr.loss.mean(w.data(), nullptr, nullptr), f);
  EXPECT_DOUBLE_EQ(pr.loss.local(w.data(), nullptr, nullptr), f);
}

TEST(ShardLoss, IsStableForLargeMargins) {
  auto x = torch::tensor({{800.0}, {-800.0}}, torch::kFloat64);
  auto y = torch::tensor({0.0, 1.0}, torch::kFloat64);
  auto comm = dist::make_local_communicator();
  ShardLoss loss(x, y, false, 2, *comm);
  Vec g(1);
  const double w = 1.0;
  EXPECT_NEAR(loss.mean(&w, g.data(), nullptr), 800.0, 1e-9);
  EXPECT_NEAR(g[0], 800.0, 1e-9);
}

/// The reference: Newton for smooth objectives, FISTA for L1, both to a
/// sup-norm optimality of 1e-13, which certifies the minimiser on its own.
SolverResult reference(Problem& pr, const Penalty& p) {
  auto r = solve(pr.loss, p, options(p.l1() > 0 ? SolverKind::kProximal : SolverKind::kNewton, 1e-13, 100000));
  EXPECT_TRUE(r.converged) << "reference did not converge: optimality " << r.optimality;
  return r;
}

void expect_matches(const SolverResult& r, const SolverResult& ref, const std::string& what) {
  EXPECT_TRUE(r.converged) << what << ": optimality " << r.optimality << " after " << r.iterations;
  EXPECT_LE(std::abs(r.objective - ref.objective), 1e-8 * std::abs(ref.objective)) << what;
  ASSERT_EQ(r.w.size(), ref.w.size());
  for (size_t j = 0; j < r.w.size(); ++j) EXPECT_NEAR(r.w[j], ref.w[j], 1e-5) << what << " coefficient " << j;
}

struct Case {
  std::string name;
  double lambda, alpha;
};

class EverySolver : public ::testing::TestWithParam<Case> {};

TEST_P(EverySolver, MatchesTheConvergedReference) {
  Problem pr;
  const Penalty p = penalty(GetParam().lambda, GetParam().alpha);
  const SolverResult ref = reference(pr, p);
  for (auto kind : {SolverKind::kGradientDescent, SolverKind::kLbfgs, SolverKind::kNewton, SolverKind::kAdmm,
                    SolverKind::kProximal}) {
    if (p.l1() > 0 && !solver_handles_l1(kind)) {
      EXPECT_THROW(solve(pr.loss, p, options(kind)), BadInput) << solver_name(kind);
      continue;
    }
    int64_t reported = 0;
    auto r = solve(pr.loss, p, options(kind, 1e-9), {}, [&](const IterationRecord& rec, const Vec&) {
      EXPECT_EQ(rec.iteration, ++reported);
      EXPECT_GE(rec.seconds, 0.0);
    });
    EXPECT_EQ(reported, r.iterations) << solver_name(kind);
    expect_matches(r, ref, solver_name(kind) + " " + GetParam().name);
  }
}

INSTANTIATE_TEST_SUITE_P(Penalties, EverySolver,
                         ::testing::Values(Case{"none", 0.0, 0.0}, Case{"l2", 0.05, 0.0}, Case{"l1", 0.01, 1.0},
                                           Case{"elastic_net", 0.02, 0.5}),
                         [](const auto& info) { return info.param.name; });

TEST(Solvers, TheReferenceSatisfiesTheOptimalityConditions) {
  // Independent of the solver: at the reference, the smooth gradient plus a
  // subgradient of the L1 term vanishes, checked coordinate by coordinate.
  Problem pr;
  const Penalty p = penalty(0.02, 0.5);
  const auto ref = reference(pr, p);
  Vec g;
  smooth_objective(pr.loss, p, ref.w, &g, nullptr);
  for (int64_t j = 0; j < kCols; ++j) {
    if (ref.w[j] != 0.0) {
      EXPECT_NEAR(g[j] + p.l1() * (ref.w[j] > 0 ? 1 : -1), 0.0, 1e-12) << j;
    } else {
      EXPECT_LE(std::abs(g[j]), p.l1() + 1e-12) << j;
    }
  }
  EXPECT_NEAR(g[kCols], 0.0, 1e-12);  // the intercept is not penalised
}

TEST(Solvers, ProximalAndAdmmGiveExactZerosUnderL1) {
  Problem pr;
  const Penalty p = penalty(0.03, 1.0);
  for (auto kind : {SolverKind::kProximal, SolverKind::kAdmm}) {
    auto r = solve(pr.loss, p, options(kind, 1e-10));
    ASSERT_TRUE(r.converged) << solver_name(kind);
    // Columns 2 and 3 carry no signal: L1 sets them to exactly zero; the strong ones stay.
    EXPECT_EQ(r.w[2], 0.0) << solver_name(kind);
    EXPECT_EQ(r.w[3], 0.0) << solver_name(kind);
    EXPECT_NE(r.w[0], 0.0);
    EXPECT_NE(r.w[1], 0.0);
  }
  // A penalty large enough zeroes every coefficient but the intercept.
  auto r = solve(pr.loss, penalty(10.0, 1.0), options(SolverKind::kProximal));
  for (int64_t j = 0; j < kCols; ++j) EXPECT_EQ(r.w[j], 0.0);
  EXPECT_NE(r.w[kCols], 0.0);
}

TEST(Solvers, WithoutAnInterceptTheInterceptStaysOut) {
  auto d = rows(0, kRows);
  auto comm = dist::make_local_communicator();
  ShardLoss loss(d.x, d.y, false, kRows, *comm);
  EXPECT_EQ(loss.dim(), kCols);
  auto a = solve(loss, penalty(0.01, 0.0), options(SolverKind::kNewton, 1e-12));
  auto b = solve(loss, penalty(0.01, 0.0), options(SolverKind::kLbfgs, 1e-10));
  ASSERT_EQ(a.w.size(), static_cast<size_t>(kCols));
  for (int64_t j = 0; j < kCols; ++j) EXPECT_NEAR(a.w[j], b.w[j], 1e-6);
}

TEST(Solvers, ASubsampledHessianReachesTheSameSolution) {
  Problem pr;
  const Penalty p = penalty(0.01, 0.0);
  const auto ref = reference(pr, p);
  // 3000 rows in blocks of 512: the Hessian from blocks 0 and 4 only, scaled up.
  ShardLoss sampled(pr.data.x, pr.data.y, true, kRows, *pr.comm, 512, 0.25);
  Vec h_full(49), h_sampled(49), g(7);
  const Vec w = {0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.1};
  const double f_full = pr.loss.mean(w.data(), g.data(), h_full.data());
  EXPECT_EQ(sampled.mean(w.data(), g.data(), h_sampled.data()), f_full) << "the value uses every row";
  EXPECT_NE(h_sampled, h_full);
  EXPECT_NEAR(h_sampled[0], h_full[0], 0.2 * h_full[0]) << "an estimate of the same Hessian";
  for (auto kind : {SolverKind::kNewton, SolverKind::kAdmm}) {
    auto r = solve(sampled, p, options(kind, 1e-10));
    expect_matches(r, ref, "sampled " + solver_name(kind));
  }
}

TEST(Solvers, NewtonConvergesQuadratically) {
  Problem pr;
  auto r = solve(pr.loss, penalty(0.001, 0.0), options(SolverKind::kNewton, 1e-12));
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.iterations, 12);
}

TEST(BinaryMetrics, AucCountsTiesAsHalfAndLogLossIsTheMean) {
  // Positives at 0.8 and 0.4, negatives at 0.4 and 0.1: pairs (0.8>0.4, 0.8>0.1,
  // 0.4=0.4, 0.4>0.1) give (1 + 1 + 0.5 + 1) / 4.
  EXPECT_DOUBLE_EQ(roc_auc({0.8, 0.4, 0.4, 0.1}, {1, 1, 0, 0}), 0.875);
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.2, 0.3}, {0, 0, 1}), 1.0);
  EXPECT_TRUE(std::isnan(roc_auc({0.1, 0.2}, {1, 1})));
  const double z[] = {0.0, 2.0, -1.0};
  const double y[] = {1.0, 0.0, 0.0};
  auto s = binary_sums(z, y, 3);
  EXPECT_NEAR(s.log_loss, std::log(2.0) + std::log1p(std::exp(2.0)) + std::log1p(std::exp(-1.0)), 1e-12);
  EXPECT_EQ(s.correct, 1.0);  // z = 0 predicts 0; only the third row is right
}

TEST(LogisticRegressionModel, MinibatchLossIsTheFullBatchObjective) {
  Problem pr;
  LogisticOptions o;
  o.features = kCols;
  o.penalty = penalty(0.02, 0.5);
  LogisticRegression model(o);
  const Vec w = {0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.1};
  model.set_coefficients(w);
  Batch b;
  b.size = kRows;
  b.fields["x"] = pr.data.x;
  b.fields["y"] = pr.data.y;
  const double minibatch = model.loss(b, model.forward(b)).item<double>();
  const double full = smooth_objective(pr.loss, o.penalty, w, nullptr, nullptr) + l1_term(o.penalty, w, true);
  EXPECT_NEAR(minibatch, full, 1e-12);
  EXPECT_EQ(model.coefficients(), w);
}

TEST(LogisticRegressionModel, WholeSetAucComesFromTheMarginsAndLabels) {
  Problem pr;
  LogisticOptions o;
  o.features = kCols;
  LogisticRegression model(o);
  model.set_coefficients({0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.1});
  Batch b;
  b.size = kRows;
  b.fields["x"] = pr.data.x;
  b.fields["y"] = pr.data.y;
  torch::NoGradGuard g;
  const auto z = model.forward(b);
  const auto rows = model.metric_rows(b, z);
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{kRows, 2}));
  const auto zc = z.contiguous(), yc = pr.data.y.contiguous();
  const double expected = roc_auc(std::vector<double>(zc.data_ptr<double>(), zc.data_ptr<double>() + kRows),
                                  std::vector<double>(yc.data_ptr<double>(), yc.data_ptr<double>() + kRows));
  const auto auc = model.whole_set_metrics(rows).at("auc");
  EXPECT_DOUBLE_EQ(auc, expected);
  EXPECT_GT(auc, 0.5) << "these coefficients rank the data better than chance";
  EXPECT_LT(auc, 1.0);
  // Order does not matter: the rows arrive in dataset order from evaluate_model's gather.
  EXPECT_DOUBLE_EQ(model.whole_set_metrics(rows.flip(0)).at("auc"), expected);
}

TEST(LogisticRegressionModel, OriginalScaleCoefficientsGiveTheSameMargins) {
  LogisticOptions o;
  o.features = 2;
  LogisticRegression model(o);
  model.set_coefficients({0.5, -1.0, 0.25});
  {
    torch::NoGradGuard g;
    const_cast<torch::Tensor&>(model.feature_mean()).copy_(torch::tensor({1.0, -2.0}, torch::kFloat64));
    const_cast<torch::Tensor&>(model.feature_scale()).copy_(torch::tensor({2.0, 4.0}, torch::kFloat64));
  }
  Batch b;
  b.size = 1;
  b.fields["x"] = torch::tensor({{3.0, 5.0}}, torch::kFloat64);
  const double z = model.forward(b).item<double>();
  const auto c = model.original_scale_coefficients();
  EXPECT_NEAR(z, c[0] * 3.0 + c[1] * 5.0 + c[2], 1e-12);
}

TEST(LogisticRegressionModel, TheMinibatchModelWorksOnAGpu_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device gpu(torch::kCUDA, 0);
  Problem pr;
  LogisticOptions o;
  o.features = kCols;
  o.penalty = penalty(0.02, 0.5);
  LogisticRegression cpu(o), on_gpu(o);
  const Vec w = {0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.1};
  cpu.set_coefficients(w);
  on_gpu.to(gpu);
  on_gpu.set_coefficients(w);  // host values into device tensors
  EXPECT_EQ(on_gpu.coefficients(), w);
  Batch b, g;
  b.size = g.size = kRows;
  b.fields["x"] = pr.data.x;
  b.fields["y"] = pr.data.y;
  g.fields["x"] = pr.data.x.to(gpu);
  g.fields["y"] = pr.data.y.to(gpu);
  torch::NoGradGuard no_grad;
  const auto z_cpu = cpu.forward(b), z_gpu = on_gpu.forward(g);
  EXPECT_TRUE(z_gpu.is_cuda());
  EXPECT_NEAR(on_gpu.loss(g, z_gpu).item<double>(), cpu.loss(b, z_cpu).item<double>(), 1e-12);
  EXPECT_NEAR(on_gpu.whole_set_metrics(on_gpu.metric_rows(g, z_gpu)).at("auc"),
              cpu.whole_set_metrics(cpu.metric_rows(b, z_cpu)).at("auc"), 1e-12);
  const auto a = cpu.original_scale_coefficients(), c = on_gpu.original_scale_coefficients();
  for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], c[j], 1e-12);
}

// ---- world 1 and world 2 -------------------------------------------------

/// Each solver on this rank's shard; rank 0 writes the solutions to TEST_OUT.
TANDEM_TEST_WORKER(logistic_fit) {
  const auto world = dist::world_from_env();
  dist::DistOptions gloo;
  gloo.timeout = std::chrono::seconds(60);  // the default backend, gloo
  auto comm = dist::connect(world, gloo);
  const auto [begin, end] = data::shard_range(kRows, world.rank, world.world_size);
  Shard s = rows(begin, end);
  ShardLoss loss(s.x, s.y, true, kRows, *comm, 512);
  std::ofstream out;
  if (world.rank == 0) out.open(std::getenv("TEST_OUT"));
  for (auto kind : {SolverKind::kGradientDescent, SolverKind::kLbfgs, SolverKind::kNewton, SolverKind::kAdmm,
                    SolverKind::kProximal}) {
    const Penalty p = solver_handles_l1(kind) ? penalty(0.02, 0.5) : penalty(0.02, 0.0);
    auto r = solve(loss, p, options(kind, 1e-10));
    if (!r.converged) return 3;
    if (world.rank == 0) {
      out << solver_name(kind);
      for (double v : r.w) out << " " << fmt::format("{:.17g}", v);
      out << "\n";
    }
  }
  return 0;
}

std::map<std::string, Vec> read_solutions(const std::string& path) {
  std::map<std::string, Vec> out;
  std::ifstream in(path);
  std::string name;
  while (in >> name) {
    Vec w(kCols + 1);
    for (auto& v : w) in >> v;
    out[name] = w;
  }
  return out;
}

TEST(Solvers, WorldOneAndWorldTwoReachTheSameSolution) {
  const auto dir = test::make_temp_dir("logistic");
  std::map<std::string, Vec> by_world[2];
  for (int world : {1, 2}) {
    const std::string out = dir + "/world" + std::to_string(world) + ".txt";
    auto result = test::run_workers_of_this_binary("logistic_fit", world, {{"TEST_OUT", out}}, 120);
    ASSERT_EQ(result.exit_code, 0) << result.failure;
    by_world[world - 1] = read_solutions(out);
  }
  ASSERT_EQ(by_world[0].size(), 5u);
  ASSERT_EQ(by_world[1].size(), 5u);
  for (const auto& [name, w1] : by_world[0]) {
    const auto& w2 = by_world[1].at(name);
    for (size_t j = 0; j < w1.size(); ++j) EXPECT_NEAR(w1[j], w2[j], 1e-7) << name << " coefficient " << j;
  }
  std::filesystem::remove_all(dir);
}

// ---- scikit-learn --------------------------------------------------------

TEST(Solvers, AgreeWithScikitLearn) {
  if (std::system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "scikit-learn is not installed (/usr/bin/python3 -c 'import sklearn' failed); install "
                    "python3-sklearn to run this comparison";
  }
  const auto dir = test::make_temp_dir("sklearn");
  Problem pr;
  {
    std::ofstream csv(dir + "/data.csv");
    for (int64_t i = 0; i < kRows; ++i) {
      csv << pr.data.y[i].item<double>();
      for (int64_t j = 0; j < kCols; ++j) csv << "," << fmt::format("{:.17g}", pr.data.x[i][j].item<double>());
      csv << "\n";
    }
  }
  // sklearn minimises C * sum_i loss_i + |beta|^2 / 2, which is n C times ours with lambda = 1 / (n C).
  const double c = 0.5;
  const double lambda = 1.0 / (kRows * c);
  const std::string script = dir + "/fit.py";
  // scikit-learn's lbfgs stops once F falls by less than 64 eps relative, too loose
  // for 1e-5 on the coefficients; its Newton solvers converge tightly.
  std::ofstream(script) << "import numpy as np\n"
                           "from sklearn.linear_model import LogisticRegression\n"
                           "d = np.loadtxt('" << dir << "/data.csv', delimiter=',')\n"
                           "try:\n"
                           "    m = LogisticRegression(C=" << c << ", solver='newton-cholesky', tol=1e-12, max_iter=1000)\n"
                           "    m.fit(d[:, 1:], d[:, 0])\n"
                           "except ValueError:  # scikit-learn < 1.2\n"
                           "    m = LogisticRegression(C=" << c << ", solver='newton-cg', tol=1e-12, max_iter=1000)\n"
                           "    m.fit(d[:, 1:], d[:, 0])\n"
                           "print(' '.join(repr(float(v)) for v in list(m.coef_[0]) + [m.intercept_[0]]))\n";
  const std::string out = dir + "/coef.txt";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " > " + out).c_str()), 0);
  Vec sk(kCols + 1);
  std::ifstream in(out);
  for (auto& v : sk) in >> v;
  ASSERT_TRUE(in) << "could not read scikit-learn's coefficients";
  auto r = solve(pr.loss, penalty(lambda, 0.0), options(SolverKind::kNewton, 1e-12));
  for (size_t j = 0; j < sk.size(); ++j) EXPECT_NEAR(r.w[j], sk[j], 1e-5) << "coefficient " << j;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::models
