#pragma once
/// Projecting a measured training step to other worker counts with the
/// alpha-beta model of ring allreduce (see docs/sweep.md for the assumptions).
///
/// One ring allreduce of M bytes over N workers takes
///     2(N-1) alpha + 2(N-1)/N * M * beta
/// (a reduce-scatter and an allgather, N-1 steps each, every step moving M/N
/// bytes). DDP issues one allreduce per bucket, so the latency term is paid
/// per bucket. Communication overlaps backward: of the compute time, the
/// fraction `overlap` can hide communication.
#include <string>
#include <vector>

namespace tandem::sweep {

struct Network {
  std::string name;
  double alpha_s = 0.0;          ///< latency per message step, seconds
  double beta_s_per_byte = 0.0;  ///< inverse bandwidth, seconds per byte
};

struct StepModel {
  double compute_s = 0.0;   ///< forward + backward + optimizer for one step at one worker
  double bytes = 0.0;       ///< gradient bytes all-reduced per step
  int buckets = 1;          ///< allreduce calls per step
  double overlap = 2.0 / 3; ///< fraction of compute_s that communication can hide behind (backward)
  double batch_per_worker = 1.0;
};

struct Projected {
  int workers = 1;
  double comm_s = 0.0;        ///< allreduce time per step
  double step_s = 0.0;        ///< with overlap
  double step_no_overlap_s = 0.0;
  double samples_per_s = 0.0; ///< global, with overlap
  double efficiency = 1.0;    ///< compute_s / step_s: weak scaling at a fixed batch per worker
};

double ring_allreduce_s(const Network& net, double bytes, int workers, int messages = 1);

Projected project(const StepModel& step, const Network& net, int workers);

/// alpha and beta from measured (bytes, seconds) of allreduces between 2
/// workers, by least squares on t = 2 alpha + M beta. At least two sizes.
Network fit_two_worker_allreduce(const std::vector<double>& bytes, const std::vector<double>& seconds,
                                 const std::string& name);

}  // namespace tandem::sweep
