#include "models/survival/deepsurv.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tandem::models {
namespace {

recipe::Binding<DeepSurvOptions> make_deepsurv_bindings() {
  recipe::Binding<DeepSurvOptions> b(
      "Cox proportional hazards with a neural log hazard ratio (DeepSurv), Breslow baseline.");
  SurvivalNet::bind_network_keys(b);
  b.key("curve_points", &DeepSurvOptions::curve_points,
        "Most time points of the stored baseline hazard (training event times).")
      .min(2)
      .max(100000);
  return b;
}

const recipe::Binding<DeepSurvOptions>& deepsurv_bindings() {
  static const auto b = make_deepsurv_bindings();
  return b;
}

DeepSurvOptions deepsurv_options_from(const YAML::Node& n) { return deepsurv_bindings().read(n); }

/// A tensor's values on the host, as float64.
std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

torch::Tensor cox_partial_nll(const torch::Tensor& eta, const torch::Tensor& duration, const torch::Tensor& event) {
  auto order = torch::argsort(duration);  // ascending
  auto t = duration.index_select(0, order).contiguous();
  auto e = event.index_select(0, order).to(eta.scalar_type());
  auto h = eta.reshape({-1}).index_select(0, order);
  // log sum_{j >= i} exp(h_j) over the ascending order, then for ties take the
  // value at the first subject of each tied group: the risk set at T_i holds
  // everyone with T_j >= T_i (Breslow).
  auto suffix = torch::flip(torch::logcumsumexp(torch::flip(h, {0}), 0), {0});
  auto first_of_tie = torch::searchsorted(t, t, /*out_int32=*/false, /*right=*/false);
  auto log_risk_set = suffix.index_select(0, first_of_tie);
  return -((h - log_risk_set) * e).sum() / static_cast<double>(eta.size(0));
}

DeepSurv::DeepSurv(const YAML::Node& section) : DeepSurv(deepsurv_options_from(section)) {}

DeepSurv::DeepSurv(const DeepSurvOptions& options) : SurvivalNet(options.net, 1), options_(options) {
  cum_baseline_ = register_buffer("cum_baseline_hazard", torch::zeros({1}));
  shift_ = register_buffer("risk_shift", torch::zeros({}));
}

recipe::Section DeepSurv::schema() { return deepsurv_bindings().schema(); }

void DeepSurv::prepare_grid(const torch::Tensor& duration, const torch::Tensor& event) {
  // Distinct training event times, thinned to at most curve_points, plus 0.
  auto d = to_vector(duration), e = to_vector(event);
  std::vector<double> times;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (e[i] > 0.5) times.push_back(d[i]);
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  std::vector<double> grid{0.0};
  const auto n = static_cast<int64_t>(times.size());
  const int64_t keep = std::min<int64_t>(n, options_.curve_points);
  // Evenly spaced positions from the first to the last event time: before the
  // first grid time every curve is 1, which would tie all early pairs.
  for (int64_t k = 0; k < keep; ++k) {
    const int64_t at = keep == 1 ? 0 : (k * (n - 1) + (keep - 1) / 2) / (keep - 1);
    const double t = times[static_cast<std::size_t>(at)];
    if (t > grid.back()) grid.push_back(t);
  }
  set_grid(torch::tensor(grid, torch::kFloat64));
  torch::NoGradGuard no_grad;
  cum_baseline_.set_(torch::zeros({static_cast<int64_t>(grid.size())}, cum_baseline_.options()));
}

torch::Tensor DeepSurv::loss(const Batch& batch, const torch::Tensor& eta) {
  return cox_partial_nll(eta.reshape({-1}), batch.at("duration"), batch.at("event"));
}

void DeepSurv::refresh(const Dataset& train) {
  SurvivalNet::refresh(train);  // first: the baseline is for the weights forward() evaluates with
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  std::vector<int64_t> all(static_cast<std::size_t>(train.size()));
  std::iota(all.begin(), all.end(), 0);
  // Only the network runs on the model's device; the baseline is summed on the CPU.
  const Batch b = train.get(all);
  auto eta = to_vector(forward_features(b.at("x").to(device())));
  const auto d = to_vector(b.at("duration")), e = to_vector(b.at("event"));
  if (was_training) this->train();
  const double shift = eta.empty() ? 0.0 : *std::max_element(eta.begin(), eta.end());
  std::vector<std::size_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t c) { return d[a] > d[c]; });
  // Walk times from the latest down, growing the risk set; record each event
  // time's increment d_k / sum exp(eta_j - shift).
  std::vector<std::pair<double, double>> increments;  // (time, increment), descending time
  double risk_sum = 0;
  for (std::size_t k = 0; k < order.size();) {
    const double t = d[order[k]];
    double deaths = 0;
    std::size_t end = k;
    for (; end < order.size() && d[order[end]] == t; ++end) {
      risk_sum += std::exp(eta[order[end]] - shift);
      deaths += e[order[end]] > 0.5 ? 1.0 : 0.0;
    }
    if (deaths > 0) increments.emplace_back(t, deaths / risk_sum);
    k = end;
  }
  std::reverse(increments.begin(), increments.end());
  auto grid = to_vector(time_grid());
  std::vector<double> h0(grid.size(), 0.0);
  double cum = 0;
  std::size_t next = 0;
  for (std::size_t g = 0; g < grid.size(); ++g) {
    for (; next < increments.size() && increments[next].first <= grid[g]; ++next) cum += increments[next].second;
    h0[g] = cum;
  }
  cum_baseline_.set_(torch::tensor(h0, torch::kFloat64).to(cum_baseline_.device(), torch::kFloat32));
  shift_.fill_(shift);
}

torch::Tensor DeepSurv::survival(const torch::Tensor& eta) {
  // float64: for small cumulative hazards S is close to 1, where float32
  // would round subjects with different risks to the same survival.
  auto r = torch::exp(eta.reshape({-1, 1}).to(torch::kFloat64) - shift_.to(torch::kFloat64));
  return torch::exp(-cum_baseline_.to(torch::kFloat64).unsqueeze(0) * r);
}

torch::Tensor DeepSurv::risk(const torch::Tensor& eta) { return eta.reshape({-1}); }

TANDEM_REGISTER_MODEL("deepsurv", DeepSurv);

}  // namespace tandem::models
