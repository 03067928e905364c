#include "sweep/stats.h"

#include <cmath>
#include <cstddef>

namespace tandem::sweep {

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double ci95_half_width(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  // Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom.
  static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                             2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  const double m = mean(v);
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  const std::size_t df = v.size() - 1;
  const double sd = std::sqrt(ss / static_cast<double>(df));
  const double q = df <= 30 ? t[df - 1] : 1.960;
  return q * sd / std::sqrt(static_cast<double>(v.size()));
}

}  // namespace tandem::sweep
