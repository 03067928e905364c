#include "models/survival/kaplan_meier.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace tandem::survival {

KaplanMeier::KaplanMeier(const std::vector<double>& durations, const std::vector<bool>& events) {
  if (durations.size() != events.size()) {
    throw std::invalid_argument("Kaplan-Meier: durations and events must have the same length");
  }
  std::vector<std::size_t> order(durations.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return durations[a] < durations[b]; });
  double at_risk = static_cast<double>(durations.size());
  double s = 1.0;
  for (std::size_t k = 0; k < order.size();) {
    // All subjects tied at this time leave the risk set together; those with
    // an event make the drop.
    const double t = durations[order[k]];
    double deaths = 0, leaving = 0;
    for (; k < order.size() && durations[order[k]] == t; ++k) {
      deaths += events[order[k]] ? 1.0 : 0.0;
      leaving += 1.0;
    }
    if (deaths > 0) {
      s *= 1.0 - deaths / at_risk;
      times_.push_back(t);
      values_.push_back(s);
    }
    at_risk -= leaving;
  }
}

double KaplanMeier::at(double t) const {
  const auto k = std::upper_bound(times_.begin(), times_.end(), t) - times_.begin();  // drops at times <= t
  return k == 0 ? 1.0 : values_[static_cast<std::size_t>(k - 1)];
}

double KaplanMeier::before(double t) const {
  const auto k = std::lower_bound(times_.begin(), times_.end(), t) - times_.begin();  // drops at times < t
  return k == 0 ? 1.0 : values_[static_cast<std::size_t>(k - 1)];
}

KaplanMeier censoring_kaplan_meier(const std::vector<double>& durations, const std::vector<bool>& events) {
  std::vector<bool> censored(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) censored[i] = !events[i];
  return KaplanMeier(durations, censored);
}

}  // namespace tandem::survival
