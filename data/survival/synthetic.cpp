#include "data/survival/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>

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

recipe::Section SyntheticSurvivalDataset::schema() {
  using recipe::Type;
  recipe::Section s("Synthetic right-censored data with Weibull proportional hazards and known log hazard ratios.");
  s.add("n_train", Type::kInt, "Training subjects.").def(2000).min(1);
  s.add("n_val", Type::kInt, "Validation subjects (0: no validation split).").def(1000).min(0);
  s.add("features", Type::kInt, "Covariates x0..x{p-1}, standard normal; only x0..x4 act.").def(5).min(5).max(1000);
  s.add("effect", Type::kChoice, "Form of the log hazard ratio.").def("linear").choices({"linear", "nonlinear"});
  s.add("shape", Type::kFloat, "Weibull shape k of the baseline hazard.").def(1.5).greater_than(0);
  s.add("scale", Type::kFloat, "Weibull scale s of the baseline hazard (time units).").def(10.0).greater_than(0);
  s.add("censor_mean", Type::kFloat, "Mean of the exponential censoring time; 0 turns censoring off.")
      .def(15.0)
      .min(0);
  s.add("seed", Type::kInt, "Seed of the generator.").def(0).min(0);
  return s;
}

DataSplits SyntheticSurvivalDataset::load(const YAML::Node& s) {
  SyntheticSurvivalOptions o;
  o.n_train = s["n_train"].as<int64_t>();
  o.n_val = s["n_val"].as<int64_t>();
  o.features = s["features"].as<int64_t>();
  o.nonlinear = s["effect"].as<std::string>() == "nonlinear";
  o.shape = s["shape"].as<double>();
  o.scale = s["scale"].as<double>();
  o.censor_mean = s["censor_mean"].as<double>();
  o.seed = s["seed"].as<uint64_t>();
  return make_synthetic_survival(o);
}

TANDEM_REGISTER_DATASET("survival_synthetic", SyntheticSurvivalDataset);

}  // namespace tandem::data
