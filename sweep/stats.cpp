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

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double t975(int df) {
  // Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom;
  // beyond, the normal's 1.96 plus the first term of its expansion.
  static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                             2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) df = 1;
  return df <= 30 ? t[df - 1] : 1.960 + 2.4 / df;
}

double ci95_half_width(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  return t975(static_cast<int>(v.size()) - 1) * sample_sd(v) / std::sqrt(static_cast<double>(v.size()));
}

bool intervals_overlap(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return true;
  return std::fabs(mean(a) - mean(b)) <= ci95_half_width(a) + ci95_half_width(b);
}

int repeats_to_resolve(const std::vector<double>& a, const std::vector<double>& b, int limit) {
  if (a.size() < 2 || b.size() < 2) return 0;
  const double gap = std::fabs(mean(a) - mean(b));
  const double spread = sample_sd(a) + sample_sd(b);
  if (gap <= 0) return 0;
  for (int n = 2; n <= limit; ++n) {
    if (t975(n - 1) * spread / std::sqrt(static_cast<double>(n)) < gap) return n;
  }
  return 0;
}

}  // namespace tandem::sweep
