#pragma once
/// The statistics of a sweep's repeats: means, 95 % confidence intervals, and
/// whether two means are told apart by them.
#include <vector>

namespace tandem::sweep {

/// The arithmetic mean; 0 for no values.
double mean(const std::vector<double>& values);

/// The sample standard deviation; 0 for fewer than two values.
double sample_sd(const std::vector<double>& values);

/// The two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (df >= 1).
double t975(int df);

/// Half-width of the 95 % confidence interval of the mean of `values`
/// (Student's t); 0 for fewer than two values.
double ci95_half_width(const std::vector<double>& values);

/// True when the two means' 95 % intervals overlap, or either has fewer than
/// two values (no interval: nothing is resolved).
bool intervals_overlap(const std::vector<double>& a, const std::vector<double>& b);

/// The fewest repeats per side at which two means as far apart as these, with
/// these spreads, would have 95 % intervals that do not overlap; 0 when even
/// `limit` would not (or the means are equal, or a side has under two values).
int repeats_to_resolve(const std::vector<double>& a, const std::vector<double>& b, int limit = 1000);

}  // namespace tandem::sweep
