// The report's projection section: the step model of each batch size from
// the sweep's runs, projected to 1-1024 workers on the measured and the given
// networks, with the measured points on the same picture.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "sweep/projection.h"
#include "sweep/report_parts.h"
#include "sweep/stats.h"

namespace tandem::sweep::report_parts {
namespace fs = std::filesystem;
namespace {

/// The network measured by the sweep's probe (network.json), if any: Gloo's
/// ring; then `extra`, one worker per node, where NCCL would pick ring or tree.
std::vector<Cluster> networks_to_project(const fs::path& sweep_dir, const std::vector<Network>& extra) {
  std::vector<Cluster> nets;
  std::ifstream in(sweep_dir / "network.json");
  const auto j = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (j.is_object() && j.contains("alpha_s")) {
    nets.push_back(flat_cluster({fmt::format("measured here (Gloo, loopback): alpha {:.0f} us, {:.2f} GB/s",
                                             j["alpha_s"].get<double>() * 1e6, 1e-9 / j["beta_s_per_byte"].get<double>()),
                                 j["alpha_s"].get<double>(), j["beta_s_per_byte"].get<double>()}));
  }
  for (const auto& net : extra) {
    Cluster c = flat_cluster(net);
    c.algorithm = AllreduceAlgorithm::kHierarchical;
    nets.push_back(c);
  }
  return nets;
}

/// The step model of one batch size: compute time from the fewest-worker run
/// (1 worker: no communication at all), bytes and buckets from the runs.
StepModel step_model(int64_t b, const std::map<int, const Combo*>& by_workers, double backward_fraction) {
  StepModel model;
  model.compute_s = mean(by_workers.begin()->second->step_times());
  int buckets = 1;
  for (const auto& [w, c] : by_workers) {
    for (const auto* r : c->runs) {
      model.bytes = std::max(model.bytes, r->bytes_per_step);
      buckets = std::max(buckets, r->buckets);
    }
  }
  model.bucket_bytes = model.bytes / buckets;
  model.backward_fraction = backward_fraction;
  model.batch_per_worker = static_cast<double>(b);
  return model;
}

int buckets_of(const StepModel& m) {
  return m.bucket_bytes > 0 ? static_cast<int>(std::ceil(m.bytes / m.bucket_bytes - 1e-9)) : 1;
}

/// The markdown table of projected throughput and efficiency, 1 to 1024 workers.
std::string projection_table(int64_t b, const StepModel& model, const std::vector<Cluster>& nets) {
  std::string table = fmt::format("Batch {} per worker: compute {:.1f} ms per step, {:.2f} MB of gradients in {} "
                                  "bucket{} per step.\n\n| workers |",
                                  b, 1000 * model.compute_s, model.bytes / 1e6, buckets_of(model),
                                  buckets_of(model) == 1 ? "" : "s");
  for (const auto& n : nets) table += " " + n.name + " |";
  table += "\n|---|";
  for (size_t k = 0; k < nets.size(); ++k) table += "---|";
  table += "\n";
  for (int n = 1; n <= 1024; n *= 2) {
    std::string row = fmt::format("| {} |", n);
    for (const auto& net : nets) {
      const auto p = project(model, net, n);
      row += fmt::format(" {:.0f} samples/s, efficiency {:.0f} % |", p.samples_per_s, 100 * p.efficiency);
    }
    table += row + "\n";
  }
  return table + "\n";
}

/// The data files of one batch size, projected per network and measured, and their plot lines.
void projection_data(const fs::path& out, int64_t b, const StepModel& model, const std::map<int, const Combo*>& by_workers,
                     const std::vector<Cluster>& nets, std::vector<std::string>& eff_plots,
                     std::vector<std::string>& tput_plots) {
  for (size_t k = 0; k < nets.size(); ++k) {
    std::string data = "# workers efficiency samples_per_s step_s comm_s\n";
    for (int n = 1; n <= 1024; n *= 2) {
      const auto p = project(model, nets[k], n);
      data += fmt::format("{} {:.5f} {:.3f} {:.6f} {:.6f}\n", n, p.efficiency, p.samples_per_s, p.step_s, p.comm_s);
    }
    const std::string file = fmt::format("projection_b{}_n{}.dat", b, k);
    write_text(out / file, data);
    const std::string title = quote(fmt::format("b{}: {}", b, nets[k].name));
    eff_plots.push_back(fmt::format("'{}' using 1:2 with lines lw 2 title {}", file, title));
    tput_plots.push_back(fmt::format("'{}' using 1:3 with lines lw 2 title {}", file, title));
  }
  std::string measured = "# workers efficiency samples_per_s\n";
  for (const auto& [w, c] : by_workers) {
    measured += fmt::format("{} {:.5f} {:.3f}\n", w, model.compute_s / mean(c->step_times()), mean(c->throughputs()));
  }
  const std::string file = fmt::format("measured_b{}.dat", b);
  write_text(out / file, measured);
  eff_plots.push_back(fmt::format("'{}' using 1:2 with points pt 7 ps 1.5 title 'b{}: measured'", file, b));
  tput_plots.push_back(fmt::format("'{}' using 1:3 with points pt 7 ps 1.5 title 'b{}: measured'", file, b));
}

/// How to plan this model on GPUs: `tandem project` with its gradient size.
std::string gpu_planning_note(const Study& s) {
  double bytes = 0;
  for (const auto& r : s.runs) bytes = std::max(bytes, r.bytes_per_step);
  if (bytes <= 0) return "";
  return fmt::format("On GPUs the step is a few milliseconds and the picture changes: measure the step time of one GPU "
                     "at each batch and run `tandem project --grad-mb {:.3g} --batch B1 B2 ... --step-ms T1 T2 ...` "
                     "(8 GPUs per node on NVLink, 8 x 400 Gb/s InfiniBand by default; docs/sweep.md has the shipped "
                     "char-LSTM on H100s).\n\n",
                     bytes / 1e6);
}

}  // namespace

std::string figure_projection(const Study& s, const fs::path& out, const fs::path& sweep_dir,
                              const ReportOptions& options) {
  const std::vector<Cluster> nets = networks_to_project(sweep_dir, options.networks);
  std::string md = "## Projection beyond this machine\n\n";
  std::vector<std::string> eff_plots, tput_plots;
  for (const auto& [b, by_workers] : s.best) {
    const StepModel model = step_model(b, by_workers, options.overlap);
    if (by_workers.begin()->first != 1) {
      md += fmt::format("Batch {}: no 1-worker run, so the compute time ({:.1f} ms) is the step time at {} "
                        "workers and includes their communication.\n\n",
                        b, 1000 * model.compute_s, by_workers.begin()->first);
    }
    if (model.bytes <= 0) continue;
    projection_data(out, b, model, by_workers, nets, eff_plots, tput_plots);
    md += projection_table(b, model, nets);
  }
  if (eff_plots.empty()) return "";
  write_text(out / "projection.gp",
             std::string(kTerminal) +
                 fmt::format("set output 'projection.png'\nset multiplot layout 1,2\nset grid\n"
                             "set logscale x 2\nset xlabel 'workers'\nset key bottom left font ',8'\n"
                             "set title 'Projected scaling efficiency (fixed batch per worker)'\nset ylabel 'efficiency'\n"
                             "set yrange [0:1.05]\nplot {}\nset autoscale y\nset logscale y 2\n"
                             "set title 'Projected throughput'\nset ylabel 'samples/s'\nset logscale y 10\n"
                             "set format y '%.0s%c'\nset key top left font ',8'\nplot {}\nunset multiplot\n",
                             fmt::join(eff_plots, ", "), fmt::join(tput_plots, ", ")));
  md += "![](projection.png)\n\n";
  md += fmt::format("The model (docs/sweep.md, validated there against published multi-GPU results): a step "
                    "costs its compute time, stretched by the slowest of N workers ({:.1f} % of a step per unit of "
                    "H_N - 1), plus the part of the bucketed ring allreduce (2(N-1) alpha per bucket + 2(N-1)/N x "
                    "bytes x beta) that does not fit behind backward ({:.0f} % of compute; each bucket starts when "
                    "its gradients are ready). Compute is this machine's; a faster device shrinks it and makes "
                    "communication matter more: `tandem project` plans for GPUs.\n\n",
                    100 * kStragglerScale, 100 * options.overlap);
  md += gpu_planning_note(s);
  return md;
}

}  // namespace tandem::sweep::report_parts
