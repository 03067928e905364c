#include "models/logistic_regression/logistic_regression.h"

#include <fmt/format.h>

#include "data/logistic/labelled_rows.h"
#include "models/logistic_regression/binary_metrics.h"
#include "framework/core/error.h"
#include "framework/recipe/binding.h"

namespace tandem::models {
namespace {

/// Every key of the model section, bound to the field that holds it.
recipe::Binding<LogisticOptions> make_logistic_bindings() {
  using O = LogisticOptions;
  recipe::Binding<O> b("Binary logistic regression with an elastic-net penalty; minibatch or full-batch solvers.");
  b.key("features", &O::features, "Input features; 0 takes the count from the data.").min(0);
  b.key("intercept", &O::intercept, "Fit an intercept (never penalised).");
  b.key("lambda", [](O& o) -> double& { return o.penalty.lambda; },
        "Penalty strength: lambda * (l1_ratio |beta|_1 + (1 - l1_ratio)/2 |beta|^2) is added to the mean log-loss.")
      .min(0);
  b.key("l1_ratio", [](O& o) -> double& { return o.penalty.alpha; }, "Share of L1 in the penalty: 0 ridge, 1 lasso.")
      .min(0)
      .max(1);
  b.choice("solver", &O::solver, "minibatch: the ordinary trainer (optim, trainer); the others fit full batch.",
           {"minibatch", "gd", "lbfgs", "newton", "admm", "proximal"});
  b.key("max_iter", [](O& o) -> int64_t& { return o.solver_options.max_iter; }, "Full batch: iterations at most.")
      .min(1);
  b.key("tol", [](O& o) -> double& { return o.solver_options.tol; },
        "Full batch: stop when the sup norm of the (minimum-norm sub)gradient of the objective is at most this.")
      .greater_than(0);
  b.key("lbfgs_memory", [](O& o) -> int64_t& { return o.solver_options.lbfgs_memory; },
        "L-BFGS: correction pairs kept.")
      .min(1)
      .max(1000);
  b.key("admm_rho", [](O& o) -> double& { return o.solver_options.admm_rho; },
        "ADMM: penalty parameter rho; 0 picks the mean curvature at the start.")
      .min(0);
  b.key("admm_inner_iter", [](O& o) -> int64_t& { return o.solver_options.admm_inner_iter; },
        "ADMM: Newton steps at most per local solve.")
      .min(1);
  b.key("block_rows", &O::block_rows, "Full batch: rows per block of a pass over the shard (cache-sized).").min(16);
  b.key("hessian_sample", &O::hessian_sample,
        "newton, admm: share of each shard's blocks the Hessian is computed from (scaled up); the gradient always "
        "uses every row.")
      .greater_than(0)
      .max(1);
  return b;
}

const recipe::Binding<LogisticOptions>& logistic_bindings() {
  static const auto b = make_logistic_bindings();
  return b;
}

LogisticOptions options_from(const YAML::Node& n) {
  LogisticOptions o = logistic_bindings().read(n);
  if (o.solver != "minibatch") o.solver_options.kind = solver_kind(o.solver);
  return o;
}

}  // namespace

LogisticRegression::LogisticRegression(const YAML::Node& section) : LogisticRegression(options_from(section)) {}

LogisticRegression::LogisticRegression(const LogisticOptions& options) : options_(options) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  weight_ = register_parameter("weight", torch::zeros({options_.features}, f64));
  // Without an intercept b stays 0 and is a buffer, so DDP never waits for its gradient.
  if (options_.intercept) {
    bias_ = register_parameter("bias", torch::zeros({1}, f64));
  } else {
    bias_ = register_buffer("bias", torch::zeros({1}, f64));
  }
  mean_ = register_buffer("feature_mean", torch::zeros({options_.features}, f64));
  scale_ = register_buffer("feature_scale", torch::ones({options_.features}, f64));
  if (options_.solver != "minibatch" && options_.penalty.l1() > 0 && !solver_handles_l1(options_.solver_options.kind)) {
    throw BadInput(fmt::format("model.solver: {} needs a smooth objective, got model.l1_ratio = {} (an L1 term); use "
                               "solver proximal or admm, or l1_ratio 0",
                               options_.solver, options_.penalty.alpha));
  }
}

recipe::Section LogisticRegression::schema() { return logistic_bindings().schema(); }

void LogisticRegression::resize(int64_t d) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(weight_.device());
  torch::NoGradGuard no_grad;
  weight_.set_data(torch::zeros({d}, f64));
  mean_.set_data(torch::zeros({d}, f64));
  scale_.set_data(torch::ones({d}, f64));
  options_.features = d;
}

void LogisticRegression::prepare(const Dataset& train) {
  const auto* rows = dynamic_cast<const data::LabelledRows*>(&train);
  if (rows == nullptr) {
    throw BadInput("model logistic_regression: expected a data set of labelled feature rows (data.type "
                   "logistic_synthetic or csv), got another kind");
  }
  if (options_.features == 0) {
    resize(rows->features());
  } else if (options_.features != rows->features()) {
    throw BadInput(fmt::format("model.features: expected the data's feature count {}, got {}; set model.features={} "
                               "or 0 (from the data)",
                               rows->features(), options_.features, rows->features()));
  }
  torch::NoGradGuard no_grad;
  if (auto s = rows->scaling()) {
    mean_.copy_(torch::tensor(s->mean, torch::kFloat64));
    scale_.copy_(torch::tensor(s->scale, torch::kFloat64));
  }
}

torch::Tensor LogisticRegression::forward(const Batch& batch) {
  const auto& x = batch.at("x");
  if (x.dim() != 2 || x.size(1) != features()) {
    throw std::invalid_argument(fmt::format("[logistic_regression] expected x of shape [batch, {}], got {}",
                                            features(), c10::str(x.sizes())));
  }
  return ((x.to(torch::kFloat64) - mean_) / scale_).mv(weight_) + bias_;
}

torch::Tensor LogisticRegression::loss(const Batch& batch, const torch::Tensor& z) {
  auto data_term = torch::binary_cross_entropy_with_logits(z, batch.at("y").to(z.scalar_type()));
  const Penalty& p = options_.penalty;
  if (p.lambda == 0) return data_term;
  return data_term + p.l1() * weight_.abs().sum() + 0.5 * p.l2() * weight_.pow(2).sum();
}

MetricSums LogisticRegression::metrics(const Batch& batch, const torch::Tensor& z) {
  auto y = batch.at("y").to(z.scalar_type());
  const double n = static_cast<double>(batch.size);
  auto log_loss = torch::binary_cross_entropy_with_logits(z, y, {}, {}, at::Reduction::Sum);
  auto correct = ((z > 0) == (y > 0.5)).sum();
  return {{"loss", {log_loss.item<double>(), n}}, {"accuracy", {correct.item<double>(), n}}};
}

torch::Tensor LogisticRegression::metric_rows(const Batch& batch, const torch::Tensor& z) {
  return torch::stack({z.detach().to(torch::kFloat64), batch.at("y").to(torch::kFloat64)}, 1);
}

std::map<std::string, double> LogisticRegression::whole_set_metrics(const torch::Tensor& device_rows) {
  const auto rows = device_rows.to(torch::kCPU, torch::kFloat64);  // read through host pointers
  const auto margins = rows.select(1, 0).contiguous(), labels = rows.select(1, 1).contiguous();
  const auto n = static_cast<std::size_t>(rows.size(0));
  return {{"auc", roc_auc(std::vector<double>(margins.data_ptr<double>(), margins.data_ptr<double>() + n),
                          std::vector<double>(labels.data_ptr<double>(), labels.data_ptr<double>() + n))}};
}

std::vector<double> LogisticRegression::coefficients() const {
  auto w = weight_.detach().to(torch::kCPU).contiguous();
  std::vector<double> out(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
  if (options_.intercept) out.push_back(bias_.item<double>());
  return out;
}

void LogisticRegression::set_coefficients(const std::vector<double>& w) {
  torch::NoGradGuard no_grad;
  const int64_t d = features();
  weight_.copy_(torch::tensor(std::vector<double>(w.begin(), w.begin() + d), torch::kFloat64));
  if (options_.intercept) bias_.fill_(w[d]);
}

std::vector<double> LogisticRegression::original_scale_coefficients() const {
  auto w = coefficients();
  const int64_t d = features();
  const auto mean = mean_.to(torch::kCPU).contiguous(), scale = scale_.to(torch::kCPU).contiguous();
  double b = options_.intercept ? w[d] : 0.0;
  w.resize(static_cast<size_t>(d));
  for (int64_t j = 0; j < d; ++j) {
    w[j] /= scale.data_ptr<double>()[j];
    b -= w[j] * mean.data_ptr<double>()[j];
  }
  w.push_back(b);
  return w;
}

TANDEM_REGISTER_MODEL("logistic_regression", LogisticRegression);

}  // namespace tandem::models
