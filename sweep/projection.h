#pragma once
/// Projecting a measured training step to other worker counts: what data
/// parallelism pays per step, term by term (docs/sweep.md, "The projection",
/// and its validation against published multi-GPU results).
///
/// A step at N workers costs
///   compute x (1 + dp_overhead) x (1 + straggler x E_N) + exposed(N)
/// where E_N is the expected excess of the slowest of N workers (exponential
/// tail: H_N - 1) and exposed(N) is the part of the gradient allreduce that
/// does not fit behind backward. Gradients become ready during backward (a
/// `head_fraction` of the bytes at once, the classifier, the rest evenly); each
/// bucket's allreduce starts when its bytes are ready and the previous one
/// has finished. One step at 1 worker costs `compute`.
#include <string>
#include <vector>

namespace tandem::sweep {

/// One link: per-message latency and inverse bandwidth.
struct Network {
  std::string name;
  double alpha_s = 0.0;          ///< latency per message step, seconds
  double beta_s_per_byte = 0.0;  ///< inverse bandwidth, seconds per byte
};

/// How an allreduce crosses nodes.
enum class AllreduceAlgorithm {
  kFlatRing,          ///< one ring through every worker: every step pays the slowest link (NCCL 2.0-2.3)
  kHierarchicalRing,  ///< ring within the node, ring across nodes
  kHierarchical,      ///< within the node a ring; across nodes the faster of ring and tree / halving-doubling
};

/// Workers in nodes: `intra` links the workers of one node, `inter` is the
/// bandwidth of a whole node to the others (all its NICs together).
struct Cluster {
  std::string name;
  Network intra;
  Network inter;
  int workers_per_node = 1;
  AllreduceAlgorithm algorithm = AllreduceAlgorithm::kHierarchical;
};

/// A cluster of one-worker nodes over one network (what the sweep measures here).
Cluster flat_cluster(const Network& net);

enum class Bucketing {
  kStatic,         ///< fixed buckets of bucket_bytes in ready order (DDP)
  kDynamicFusion,  ///< whatever is ready when the last allreduce ends, up to bucket_bytes (Horovod's tensor fusion)
};

/// The straggler scale shared by every validation row (fitted, docs/sweep.md).
inline constexpr double kStragglerScale = 0.018;

struct StepModel {
  double compute_s = 0.0;              ///< forward + backward + optimizer for one step at one worker
  double backward_fraction = 2.0 / 3;  ///< of compute_s; backward costs about twice forward
  double bytes = 0.0;                  ///< gradient bytes all-reduced per step
  double bucket_bytes = 25e6;          ///< bucket cap (DDP's bucket_cap_mb, Horovod's fusion threshold)
  Bucketing bucketing = Bucketing::kStatic;
  double fusion_cycle_s = 0.005;       ///< kDynamicFusion: how long a fusion waits for more tensors
  double head_fraction = 0.0;          ///< of bytes, ready as backward starts (the classifier's layers)
  double dp_overhead = 0.0;            ///< the data-parallel wrapper's own cost, fraction of compute
  double straggler = kStragglerScale;  ///< spread of one worker's step, fraction of compute
  double batch_per_worker = 1.0;
};

struct Projected {
  int workers = 1;
  double comm_s = 0.0;        ///< all allreduces of one step, end to end
  double exposed_s = 0.0;     ///< of comm_s, after backward ended
  double step_s = 0.0;
  double samples_per_s = 0.0; ///< global
  double efficiency = 1.0;    ///< compute_s / step_s: weak scaling at a fixed batch per worker
};

/// The classic ring on one link: 2(N-1) alpha per message + 2(N-1)/N M beta.
double ring_allreduce_s(const Network& net, double bytes, int workers, int messages = 1);

/// One allreduce of `bytes` over `workers` of `cluster`.
double allreduce_s(const Cluster& cluster, double bytes, int workers);

/// Expected excess of the slowest of n workers over one, in units of the
/// spread, for an exponential tail: H_n - 1.
double slowest_of(int workers);

Projected project(const StepModel& step, const Cluster& cluster, int workers);
inline Projected project(const StepModel& step, const Network& net, int workers) {
  return project(step, flat_cluster(net), workers);
}

/// Per-worker throughput at `workers` relative to `base_workers`.
double relative_efficiency(const StepModel& step, const Cluster& cluster, int workers, int base_workers = 1);

/// alpha and beta from measured (bytes, seconds) of allreduces between 2
/// workers, by least squares on t = 2 alpha + M beta. At least two sizes.
Network fit_two_worker_allreduce(const std::vector<double>& bytes, const std::vector<double>& seconds,
                                 const std::string& name);

}  // namespace tandem::sweep
