#include "sweep/projection.h"

#include <algorithm>
#include <stdexcept>

namespace tandem::sweep {

double ring_allreduce_s(const Network& net, double bytes, int workers, int messages) {
  if (workers <= 1) return 0.0;
  const double n = workers;
  return 2.0 * (n - 1) * net.alpha_s * messages + 2.0 * (n - 1) / n * bytes * net.beta_s_per_byte;
}

Projected project(const StepModel& step, const Network& net, int workers) {
  Projected p;
  p.workers = workers;
  p.comm_s = ring_allreduce_s(net, step.bytes, workers, step.buckets);
  const double hidden = step.overlap * step.compute_s;
  p.step_s = step.compute_s + std::max(0.0, p.comm_s - hidden);
  p.step_no_overlap_s = step.compute_s + p.comm_s;
  p.samples_per_s = p.step_s > 0 ? workers * step.batch_per_worker / p.step_s : 0.0;
  p.efficiency = p.step_s > 0 ? step.compute_s / p.step_s : 1.0;
  return p;
}

Network fit_two_worker_allreduce(const std::vector<double>& bytes, const std::vector<double>& seconds,
                                 const std::string& name) {
  if (bytes.size() != seconds.size() || bytes.size() < 2) {
    throw std::invalid_argument("fit_two_worker_allreduce: needs at least two (bytes, seconds) pairs");
  }
  // Ordinary least squares for t = a + b M; then alpha = a / 2, beta = b.
  const double n = static_cast<double>(bytes.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    sx += bytes[i];
    sy += seconds[i];
    sxx += bytes[i] * bytes[i];
    sxy += bytes[i] * seconds[i];
  }
  const double denom = n * sxx - sx * sx;
  if (denom <= 0) throw std::invalid_argument("fit_two_worker_allreduce: needs at least two different sizes");
  const double b = (n * sxy - sx * sy) / denom;
  const double a = (sy - b * sx) / n;
  return Network{name, std::max(0.0, a / 2.0), std::max(0.0, b)};
}

}  // namespace tandem::sweep
