#include "models/survival/logistic_hazard.h"

#include <algorithm>

#include "models/survival/kaplan_meier.h"

namespace tandem::models {
namespace {

recipe::Binding<LogisticHazardOptions> make_hazard_bindings() {
  recipe::Binding<LogisticHazardOptions> b(
      "Discrete-time survival: one logistic hazard per time interval (pycox's LogisticHazard).");
  SurvivalNet::bind_network_keys(b);
  b.key("intervals", &LogisticHazardOptions::intervals, "Time intervals m (network outputs).").min(1).max(10000);
  b.choice("cuts", &LogisticHazardOptions::cuts,
           "Where the intervals end: equally spaced up to the longest training duration, or at equally spaced "
           "levels of the training Kaplan-Meier curve.",
           {"equidistant", "quantiles"});
  return b;
}

const recipe::Binding<LogisticHazardOptions>& hazard_bindings() {
  static const auto b = make_hazard_bindings();
  return b;
}

LogisticHazardOptions hazard_options_from(const YAML::Node& n) { return hazard_bindings().read(n); }

}  // namespace

std::vector<double> make_cuts(const std::vector<double>& durations, const std::vector<bool>& events,
                              int64_t intervals, const std::string& scheme) {
  const double t_max = durations.empty() ? 1.0 : *std::max_element(durations.begin(), durations.end());
  std::vector<double> cuts{0.0};
  if (scheme == "quantiles") {
    // Cuts where the Kaplan–Meier curve crosses equally spaced levels between
    // 1 and its lowest value, so each interval holds about as many events.
    survival::KaplanMeier km(durations, events);
    const double s_min = km.values().empty() ? 1.0 : km.values().back();
    for (int64_t j = 1; j < intervals; ++j) {
      const double level = 1.0 - (1.0 - s_min) * static_cast<double>(j) / static_cast<double>(intervals);
      // The first event time where S drops to the level or below.
      auto it = std::find_if(km.values().begin(), km.values().end(), [&](double s) { return s <= level + 1e-12; });
      if (it == km.values().end()) continue;
      const double t = km.times()[static_cast<std::size_t>(it - km.values().begin())];
      if (t > cuts.back()) cuts.push_back(t);
    }
    if (t_max > cuts.back()) cuts.push_back(t_max);
  } else {
    for (int64_t j = 1; j <= intervals; ++j) cuts.push_back(t_max * static_cast<double>(j) / intervals);
  }
  return cuts;
}

torch::Tensor logistic_hazard_nll(const torch::Tensor& phi, const torch::Tensor& cuts, const torch::Tensor& duration,
                                  const torch::Tensor& event) {
  const int64_t m = phi.size(1);
  auto t = duration.to(cuts.scalar_type()).contiguous();
  // Events: the interval j (1-based) with t in (tau_{j-1}, tau_j], clamped to
  // [1, m]. Censored: the number of cuts tau_k (k >= 1) at or before t.
  auto event_interval = torch::searchsorted(cuts, t, /*out_int32=*/false, /*right=*/false).clamp(1, m + 1);
  auto survived = torch::searchsorted(cuts, t, false, /*right=*/true) - 1;
  auto is_event = (event > 0.5).logical_and(event_interval <= m);  // events after tau_m are censored
  // Last interval (0-based) that enters the likelihood; -1 means none.
  auto last = torch::where(is_event, event_interval - 1, survived.clamp_max(m) - 1);
  auto k = torch::arange(m, last.options()).unsqueeze(0);
  auto mask = (k <= last.unsqueeze(1)).to(phi.scalar_type());
  auto target = (k == last.unsqueeze(1)).logical_and(is_event.unsqueeze(1)).to(phi.scalar_type());
  auto bce = torch::binary_cross_entropy_with_logits(phi, target, {}, {}, at::Reduction::None);
  return (bce * mask).sum(1);
}

LogisticHazard::LogisticHazard(const YAML::Node& section) : LogisticHazard(hazard_options_from(section)) {}

LogisticHazard::LogisticHazard(const LogisticHazardOptions& options)
    : SurvivalNet(options.net, options.intervals), options_(options) {}

recipe::Section LogisticHazard::schema() { return hazard_bindings().schema(); }

void LogisticHazard::prepare_grid(const torch::Tensor& duration, const torch::Tensor& event) {
  auto d = duration.to(torch::kCPU, torch::kFloat64).contiguous();
  auto e = event.to(torch::kCPU, torch::kFloat64).contiguous();
  std::vector<double> t(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  std::vector<bool> ev(static_cast<std::size_t>(e.numel()));
  for (std::size_t i = 0; i < ev.size(); ++i) ev[i] = e.data_ptr<double>()[i] > 0.5;
  auto cuts = make_cuts(t, ev, options_.intervals, options_.cuts);
  // Quantile cuts may merge; pad with cuts past the end so the network keeps
  // `intervals` outputs (those intervals never hold a subject).
  while (static_cast<int64_t>(cuts.size()) < options_.intervals + 1) cuts.push_back(cuts.back() + 1.0);
  set_grid(torch::tensor(cuts, torch::kFloat64));
}

torch::Tensor LogisticHazard::loss(const Batch& batch, const torch::Tensor& phi) {
  return logistic_hazard_nll(phi, time_grid(), batch.at("duration"), batch.at("event")).mean();
}

torch::Tensor LogisticHazard::survival(const torch::Tensor& phi) {
  // log(1 - sigmoid(phi)) = logsigmoid(-phi), summed: stable for large logits.
  // In float64, so that survival close to 1 still tells subjects apart.
  auto log_s = torch::cumsum(torch::log_sigmoid(-phi.to(torch::kFloat64)), 1);
  return torch::cat({torch::ones({phi.size(0), 1}, log_s.options()), torch::exp(log_s)}, 1);
}

torch::Tensor LogisticHazard::risk(const torch::Tensor& phi) {
  auto s = survival(phi);
  auto widths = (time_grid().slice(0, 1) - time_grid().slice(0, 0, -1)).to(s.scalar_type());
  return -(0.5 * (s.slice(1, 0, -1) + s.slice(1, 1)) * widths).sum(1);  // trapezoids: S is linear between cuts
}

TANDEM_REGISTER_MODEL("logistic_hazard", LogisticHazard);

}  // namespace tandem::models
