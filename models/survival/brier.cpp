#include "models/survival/brier.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/survival/kaplan_meier.h"

namespace tandem::survival {
namespace {

double inverse(double g) { return g > 0 ? 1.0 / g : 0.0; }

double trapezoid_mean(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < 2 || x.back() <= x.front()) return y.empty() ? 0.0 : y.front();
  double area = 0;
  for (std::size_t k = 1; k < x.size(); ++k) area += 0.5 * (y[k] + y[k - 1]) * (x[k] - x[k - 1]);
  return area / (x.back() - x.front());
}

}  // namespace

IpcwScores ipcw_scores(const std::vector<double>& durations, const std::vector<bool>& events,
                       const SurvivalCurves& curves, const std::vector<double>& times) {
  const std::size_t n = durations.size();
  if (events.size() != n) throw std::invalid_argument("ipcw_scores: durations and events differ in length");
  curves.check(n);
  if (!std::is_sorted(times.begin(), times.end())) throw std::invalid_argument("ipcw_scores: times must ascend");
  const KaplanMeier g = censoring_kaplan_meier(durations, events);
  std::vector<double> weight_event(n);  // 1 / G(T_i-)
  for (std::size_t i = 0; i < n; ++i) weight_event[i] = inverse(g.before(durations[i]));
  constexpr double kEps = 1e-7;

  IpcwScores out;
  out.times = times;
  for (double t : times) {
    const double weight_alive = inverse(g.at(t));
    const auto k = curves.position(t);
    double bs = 0, ll = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double s = curves.value(i, k);
      const double s_clamped = std::clamp(s, kEps, 1.0 - kEps);
      if (durations[i] <= t) {
        if (!events[i]) continue;
        bs += s * s * weight_event[i];
        ll += std::log(1.0 - s_clamped) * weight_event[i];
      } else {
        bs += (1.0 - s) * (1.0 - s) * weight_alive;
        ll += std::log(s_clamped) * weight_alive;
      }
    }
    out.brier.push_back(bs / static_cast<double>(n));
    out.nbll.push_back(-ll / static_cast<double>(n));
  }
  out.integrated_brier = trapezoid_mean(times, out.brier);
  out.integrated_nbll = trapezoid_mean(times, out.nbll);
  return out;
}

std::vector<double> evaluation_grid(const std::vector<double>& durations, int count) {
  if (durations.empty() || count < 1) return {};
  const auto [lo, hi] = std::minmax_element(durations.begin(), durations.end());
  std::vector<double> grid;
  for (int k = 0; k < count; ++k) {
    grid.push_back(count == 1 ? *lo : *lo + (*hi - *lo) * static_cast<double>(k) / (count - 1));
  }
  return grid;
}

}  // namespace tandem::survival
