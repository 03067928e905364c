#pragma once
/// Kaplan–Meier estimates of a survival function from right-censored data.
/// Plain C++ (no LibTorch): the survival metrics and the time grids of the
/// hazard models use it.
#include <vector>

namespace tandem::survival {

/// A right-continuous step function: value(t) is the product of (1 - d_k / n_k)
/// over the distinct event times t_k <= t (1 before the first one).
class KaplanMeier {
 public:
  /// `durations` >= 0; `events[i]` true when subject i's event was observed,
  /// false when it was censored at durations[i]. Throws std::invalid_argument
  /// when the sizes differ.
  KaplanMeier(const std::vector<double>& durations, const std::vector<bool>& events);

  /// S(t), right-continuous: a drop at t_k is included at t = t_k.
  double at(double t) const;
  /// S(t-), the limit from the left: a drop at t_k is not included at t = t_k.
  double before(double t) const;

  /// The distinct times where the estimate drops (ascending), and its value just after each.
  const std::vector<double>& times() const { return times_; }
  const std::vector<double>& values() const { return values_; }

 private:
  std::vector<double> times_, values_;
};

/// Kaplan–Meier of the censoring distribution, G(t) = P(C > t): the same
/// estimator with the events flipped (a censoring is the "event"). Used for
/// inverse probability of censoring weights.
KaplanMeier censoring_kaplan_meier(const std::vector<double>& durations, const std::vector<bool>& events);

}  // namespace tandem::survival
