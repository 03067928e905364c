#include "data/survival/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>

#include "framework/recipe/binding.h"

namespace tandem::data {

torch::Tensor synthetic_log_hazard(const torch::Tensor& x, bool nonlinear) {
  auto c = [&](int64_t k) { return x.select(1, k); };
  if (nonlinear) return c(0) - 0.8 * c(1) + 0.7 * (c(2) * c(2) - 1.0) + 0.6 * c(3) * c(4);
  return c(0) - 0.8 * c(1) + 0.6 * c(2) - 0.4 * c(3) + 0.2 * c(4);
}

DataSplits make_synthetic_survival(const SyntheticSurvivalOptions& o) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const int64_t n = o.n_train + o.n_val;
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto x = at::randn({n, o.features}, gen, opts);
  auto eta = synthetic_log_hazard(x, o.nonlinear);
  // U in (0, 1]: 1 - U' with U' in [0, 1) keeps log U finite.
  auto u = 1.0 - at::rand({n}, gen, opts);
  auto t = o.scale * torch::pow(-torch::log(u) / torch::exp(eta), 1.0 / o.shape);
  torch::Tensor duration = t, event = torch::ones({n}, opts);
  if (o.censor_mean > 0) {
    auto v = 1.0 - at::rand({n}, gen, opts);
    auto c = -o.censor_mean * torch::log(v);
    duration = torch::minimum(t, c);
    event = (t <= c).to(torch::kFloat64);
  }
  std::vector<std::string> names;
  for (int64_t k = 0; k < o.features; ++k) names.push_back("x" + std::to_string(k));
  auto part = [&](int64_t begin, int64_t count) -> std::shared_ptr<Dataset> {
    if (count == 0) return nullptr;
    return std::make_shared<SurvivalTable>(x.narrow(0, begin, count), duration.narrow(0, begin, count),
                                           event.narrow(0, begin, count), eta.narrow(0, begin, count), names);
  };
  return {part(0, o.n_train), part(o.n_train, o.n_val)};
}

namespace {

/// Every key of the survival_synthetic data section, bound to its SyntheticSurvivalOptions field.
recipe::Binding<SyntheticSurvivalOptions> synthetic_survival_bindings() {
  using O = SyntheticSurvivalOptions;
  recipe::Binding<O> s("Synthetic right-censored data with Weibull proportional hazards and known log hazard ratios.");
  s.key("n_train", &O::n_train, "Training subjects.").min(1);
  s.key("n_val", &O::n_val, "Validation subjects (0: no validation split).").min(0);
  s.key("features", &O::features, "Covariates x0..x{p-1}, standard normal; only x0..x4 act.").min(5).max(1000);
  s.spelled<std::string>(
       "effect", &O::nonlinear, "Form of the log hazard ratio.",
       [](const std::string& word) { return word == "nonlinear"; },
       [](bool nonlinear) { return nonlinear ? "nonlinear" : "linear"; }, recipe::Type::kChoice)
      .choices({"linear", "nonlinear"});
  s.key("shape", &O::shape, "Weibull shape k of the baseline hazard.").greater_than(0);
  s.key("scale", &O::scale, "Weibull scale s of the baseline hazard (time units).").greater_than(0);
  s.key("censor_mean", &O::censor_mean, "Mean of the exponential censoring time; 0 turns censoring off.").min(0);
  s.key("seed", &O::seed, "Seed of the generator.").min(0);
  return s;
}

}  // namespace

recipe::Section SyntheticSurvivalDataset::schema() { return synthetic_survival_bindings().schema(); }

SyntheticSurvivalOptions SyntheticSurvivalDataset::options_from(const YAML::Node& s) {
  return synthetic_survival_bindings().read(s);
}

DataSplits SyntheticSurvivalDataset::load(const YAML::Node& s) { return make_synthetic_survival(options_from(s)); }

TANDEM_REGISTER_DATASET("survival_synthetic", SyntheticSurvivalDataset);

}  // namespace tandem::data
