#include "sweep/projection.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tandem::sweep {
namespace {

/// Seconds after backward starts at which the fraction `x` of the gradient
/// bytes is ready: the head at once, the rest evenly over backward.
double ready_at(const StepModel& m, double backward_s, double x) {
  if (x <= m.head_fraction || m.head_fraction >= 1.0) return 0.0;
  return backward_s * std::min(1.0, (x - m.head_fraction) / (1.0 - m.head_fraction));
}

double bytes_ready(const StepModel& m, double backward_s, double t) {
  const double f = backward_s > 0 ? std::min(1.0, t / backward_s) : 1.0;
  return m.bytes * (m.head_fraction + (1.0 - m.head_fraction) * f);
}

/// Static buckets (DDP): bucket k starts when its last byte is ready and the
/// previous bucket is done. Returns when the last allreduce ends, from the
/// start of backward.
double static_buckets_end(const StepModel& m, const Cluster& c, int workers, double backward_s, double& comm_s) {
  const double cap = m.bucket_bytes > 0 ? m.bucket_bytes : m.bytes;
  double t = 0.0, sent = 0.0;
  while (sent < m.bytes * (1 - 1e-12)) {
    const double size = std::min(cap, m.bytes - sent);
    sent += size;
    const double a = allreduce_s(c, size, workers);
    comm_s += a;
    t = std::max(t, ready_at(m, backward_s, sent / m.bytes)) + a;
  }
  return t;
}

/// Tensor fusion (Horovod): every cycle, whatever is ready and not yet sent,
/// up to the cap, goes in one allreduce once the previous one has ended.
double fused_buckets_end(const StepModel& m, const Cluster& c, int workers, double backward_s, double& comm_s) {
  const double cap = m.bucket_bytes > 0 ? m.bucket_bytes : m.bytes;
  const double tiny = m.bytes * 1e-9;
  double t = 0.0, sent = 0.0, last_start = -1e30;
  while (sent < m.bytes - tiny) {
    t = std::max(t, last_start + m.fusion_cycle_s);
    const double available = bytes_ready(m, backward_s, t) - sent;
    if (available <= tiny) {  // nothing new: wait for the next gradient
      t = ready_at(m, backward_s, std::min(1.0, sent / m.bytes + 1e-6));
      continue;
    }
    const double size = std::min(cap, available);
    sent += size;
    last_start = t;
    const double a = allreduce_s(c, size, workers);
    comm_s += a;
    t += a;
  }
  return t;
}

}  // namespace

Cluster flat_cluster(const Network& net) {
  return Cluster{net.name, net, net, 1, AllreduceAlgorithm::kHierarchicalRing};
}

double ring_allreduce_s(const Network& net, double bytes, int workers, int messages) {
  if (workers <= 1) return 0.0;
  const double n = workers;
  return 2.0 * (n - 1) * net.alpha_s * messages + 2.0 * (n - 1) / n * bytes * net.beta_s_per_byte;
}

double allreduce_s(const Cluster& c, double bytes, int workers) {
  if (workers <= 1) return 0.0;
  const int per_node = std::max(1, std::min(workers, c.workers_per_node));
  const int nodes = std::max(1, (workers + per_node - 1) / per_node);
  if (c.algorithm == AllreduceAlgorithm::kFlatRing) {
    // One ring: each of its 2(N-1) steps waits for the slowest hop, and the
    // node's NIC carries as much as every worker sends.
    if (nodes == 1) return ring_allreduce_s(c.intra, bytes, workers);
    const double beta = std::max(c.intra.beta_s_per_byte, c.inter.beta_s_per_byte);
    return ring_allreduce_s(Network{"", c.inter.alpha_s, beta}, bytes, workers);
  }
  // Reduce-scatter and allgather in the node; across nodes each worker of a
  // node all-reduces its 1/per_node share, the node's NICs carrying them all.
  double t = ring_allreduce_s(c.intra, bytes, per_node);
  if (nodes > 1) {
    const double k = nodes;
    const double bandwidth_s = 2.0 * (k - 1) / k * bytes * c.inter.beta_s_per_byte;
    double steps = 2.0 * (k - 1);
    if (c.algorithm == AllreduceAlgorithm::kHierarchical) steps = std::min(steps, 2.0 * std::ceil(std::log2(k)));
    t += steps * c.inter.alpha_s + bandwidth_s;
  }
  return t;
}

double slowest_of(int workers) {
  double h = 0.0;
  for (int i = 2; i <= workers; ++i) h += 1.0 / i;
  return h;
}

Projected project(const StepModel& m, const Cluster& c, int workers) {
  Projected p;
  p.workers = workers;
  p.step_s = m.compute_s;
  if (workers > 1) {
    const double backward_s = m.backward_fraction * m.compute_s;
    double end = 0.0;
    if (m.bytes > 0) {
      end = m.bucketing == Bucketing::kStatic ? static_buckets_end(m, c, workers, backward_s, p.comm_s)
                                              : fused_buckets_end(m, c, workers, backward_s, p.comm_s);
    }
    p.exposed_s = std::max(0.0, end - backward_s);
    p.step_s = m.compute_s * (1 + m.dp_overhead) * (1 + m.straggler * slowest_of(workers)) + p.exposed_s;
  }
  p.samples_per_s = p.step_s > 0 ? workers * m.batch_per_worker / p.step_s : 0.0;
  p.efficiency = p.step_s > 0 ? m.compute_s / p.step_s : 1.0;
  return p;
}

double relative_efficiency(const StepModel& m, const Cluster& c, int workers, int base_workers) {
  return project(m, c, base_workers).step_s / project(m, c, workers).step_s;
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
