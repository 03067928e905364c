#pragma once
/// Predicted survival curves of n subjects on a shared time grid, as the
/// survival metrics read them. Plain C++.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace tandem::survival {

/// values[i * times.size() + k] = S_i(times[k]); `times` ascending. Between
/// grid points a curve is either a right-continuous step ("post": S_i(t) is the
/// value at the last grid time <= t) or, with `linear`, interpolated linearly
/// (constant density within an interval, as pycox's interpolation of discrete
/// models). Before the first grid time S = 1; after the last it stays at the
/// last value.
struct SurvivalCurves {
  std::vector<double> times;
  std::vector<double> values;
  bool linear = false;

  /// Where t falls on the grid: the last index k with times[k] <= t (-1 before
  /// the grid) and, for linear curves, the weight of times[k + 1].
  struct Position {
    std::ptrdiff_t k = -1;
    double w = 0;
  };

  std::size_t subjects() const { return times.empty() ? 0 : values.size() / times.size(); }

  Position position(double t) const {
    Position p;
    p.k = (std::upper_bound(times.begin(), times.end(), t) - times.begin()) - 1;
    const auto next = static_cast<std::size_t>(p.k + 1);
    if (linear && next < times.size()) {
      const double left = p.k < 0 ? 0.0 : times[static_cast<std::size_t>(p.k)];
      if (times[next] > left) p.w = std::clamp((t - left) / (times[next] - left), 0.0, 1.0);
    }
    return p;
  }
  double value(std::size_t subject, Position p) const {
    const double left = p.k < 0 ? 1.0 : values[subject * times.size() + static_cast<std::size_t>(p.k)];
    if (p.w == 0) return left;
    const double right = values[subject * times.size() + static_cast<std::size_t>(p.k + 1)];
    return left + p.w * (right - left);
  }
  double at(std::size_t subject, double t) const { return value(subject, position(t)); }

  void check(std::size_t n) const {
    if (times.empty() || values.size() != n * times.size()) {
      throw std::invalid_argument("survival curves: expected " + std::to_string(n) + " x " +
                                  std::to_string(times.size()) + " values, got " + std::to_string(values.size()));
    }
  }
};

}  // namespace tandem::survival
