#pragma once
/// The statistics of a sweep's repeats: means and 95 % confidence intervals.
#include <vector>

namespace tandem::sweep {

/// The arithmetic mean; 0 for no values.
double mean(const std::vector<double>& values);

/// Half-width of the 95 % confidence interval of the mean of `values`
/// (Student's t); 0 for fewer than two values.
double ci95_half_width(const std::vector<double>& values);

}  // namespace tandem::sweep
