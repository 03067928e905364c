#include "sweep/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "framework/core/error.h"

namespace tandem::sweep {
namespace fs = std::filesystem;
namespace {

struct LinkPreset {
  const char* name;
  double alpha_us;
  double gbytes_per_s;
  const char* what;
};

// Large-message bandwidth: RDMA at 95 % of line rate; NVLink 4 (H100 SXM,
// 450 GB/s each way) at 80 %, what a ring allreduce reaches inside a node.
const LinkPreset kLinkPresets[] = {
    {"nvlink", 3, 360, "an H100 node's NVLink 4 (ring allreduce bus bandwidth)"},
    {"pcie", 2, 10, "PCIe 3.0 x16 through the host"},
    {"ib100", 5, 12.5 * 0.95, "one 100 Gb/s InfiniBand NIC (EDR)"},
    {"ib200", 5, 25 * 0.95, "one 200 Gb/s InfiniBand NIC (HDR)"},
    {"ib400", 5, 50 * 0.95, "one 400 Gb/s InfiniBand NIC (NDR)"},
    {"eth25", 10, 3.125 * 0.95, "one 25 Gb/s Ethernet NIC with RoCE"},
};

double plan_number(const std::string& flag, const std::string& text, const std::string& part) {
  try {
    size_t used = 0;
    const double v = std::stod(part, &used);
    if (used == part.size()) return v;
  } catch (const std::exception&) {
  }
  throw BadInput(fmt::format("{}: expected a preset ({}) or ALPHA_US:GBYTES_PER_S such as 5:47.5, got '{}'", flag,
                             "nvlink, pcie, ib100, ib200, ib400, eth25", text));
}

void write_plan_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

StepModel step_at(const Plan& plan, const PlanPoint& p) {
  StepModel m = plan.step;
  m.compute_s = p.step_s;
  m.batch_per_worker = p.batch;
  return m;
}

/// The verdict on one batch size.
std::string plan_verdict(const Plan& plan, const PlanPoint& p) {
  const StepModel m = step_at(plan, p);
  int above = 1, stop = 0;
  for (int n = 2; n <= plan.max_workers; n *= 2) {
    const auto now = project(m, plan.cluster, n), before = project(m, plan.cluster, n / 2);
    if (now.efficiency >= plan.target_efficiency) above = n;
    if (stop == 0 && now.samples_per_s < 1.5 * before.samples_per_s) stop = n / 2;
  }
  std::string text = fmt::format("- batch {:g} per worker ({:.2f} ms a step): ", p.batch, 1000 * p.step_s);
  text += above == plan.max_workers && project(m, plan.cluster, above).efficiency >= plan.target_efficiency
              ? fmt::format("efficiency stays above {:.0f} % up to {} workers", 100 * plan.target_efficiency, above)
              : fmt::format("efficiency above {:.0f} % up to {} workers", 100 * plan.target_efficiency, above);
  if (stop > 0) {
    text += fmt::format("; beyond {} workers doubling them adds less than half of what they cost", stop);
  } else {
    text += fmt::format("; every doubling up to {} still adds more than half of what it costs", plan.max_workers);
  }
  return text + ".\n";
}

/// Fixed global batch: of the ways to split it over workers at the measured
/// per-worker batches, the fastest step. Only where there are several batches.
std::string plan_global_batches(const Plan& plan) {
  if (plan.points.size() < 2) return "";
  double smallest = plan.points[0].batch, largest = plan.points[0].batch;
  for (const auto& p : plan.points) smallest = std::min(smallest, p.batch), largest = std::max(largest, p.batch);
  std::string md = "\nA fixed global batch, split over N workers at a measured per-worker batch: the step time of "
                   "each split (the fastest in bold).\n\n| global batch | splits: workers x batch, step time |\n|---|---|\n";
  for (double g = smallest; g <= largest * plan.max_workers && g <= largest * 64; g *= 2) {
    std::vector<std::pair<std::string, double>> splits;
    for (const auto& p : plan.points) {
      const double n = g / p.batch;
      if (n < 1 || n > plan.max_workers || std::fabs(n - std::round(n)) > 1e-9) continue;
      const auto r = project(step_at(plan, p), plan.cluster, static_cast<int>(std::lround(n)));
      splits.emplace_back(fmt::format("{:g} x {:g}: {:.2f} ms", n, p.batch, 1000 * r.step_s), r.step_s);
    }
    if (splits.size() < 2) continue;
    size_t best = 0;
    for (size_t k = 1; k < splits.size(); ++k) best = splits[k].second < splits[best].second ? k : best;
    md += fmt::format("| {:g} |", g);
    for (size_t k = 0; k < splits.size(); ++k) {
      const std::string sep = k == 0 ? " " : "; ";
      md += sep + (k == best ? "**" + splits[k].first + "**" : splits[k].first);
    }
    md += " |";
    md += "\n";
  }
  return md;
}

}  // namespace

Network parse_link(const std::string& flag, const std::string& text) {
  for (const auto& p : kLinkPresets) {
    if (text == p.name) return Network{p.name, p.alpha_us * 1e-6, 1.0 / (p.gbytes_per_s * 1e9)};
  }
  const auto colon = text.find(':');
  if (colon == std::string::npos) plan_number(flag, text, "not a number");
  const double alpha_us = plan_number(flag, text, text.substr(0, colon));
  const double gbytes = plan_number(flag, text, text.substr(colon + 1));
  if (alpha_us < 0 || gbytes <= 0) {
    throw BadInput(fmt::format("{}: expected ALPHA_US >= 0 and GBYTES_PER_S > 0, got '{}'", flag, text));
  }
  return Network{fmt::format("{:g} us, {:g} GB/s", alpha_us, gbytes), alpha_us * 1e-6, 1.0 / (gbytes * 1e9)};
}

std::string link_presets() {
  std::string out;
  for (const auto& p : kLinkPresets) {
    out += fmt::format("  {:7} alpha {:g} us, {:g} GB/s: {}\n", p.name, p.alpha_us, p.gbytes_per_s, p.what);
  }
  return out;
}

std::string plan_report(const Plan& plan) {
  std::string md = fmt::format(
      "{:.3g} MB of gradients in buckets of {:.3g} MB; {} workers per node over {}, nodes over {}.\n\n| workers |",
      plan.step.bytes / 1e6, plan.step.bucket_bytes / 1e6, plan.cluster.workers_per_node, plan.cluster.intra.name,
      plan.cluster.inter.name);
  for (const auto& p : plan.points) md += fmt::format(" batch {:g} |", p.batch);
  md += "\n|---|";
  for (size_t k = 0; k < plan.points.size(); ++k) md += "---|";
  md += "\n";
  for (int n = 1; n <= plan.max_workers; n *= 2) {
    md += fmt::format("| {} |", n);
    for (const auto& p : plan.points) {
      const auto r = project(step_at(plan, p), plan.cluster, n);
      md += fmt::format(" {:.0f} % ({:.3g} samples/s) |", 100 * r.efficiency, r.samples_per_s);
    }
    md += "\n";
  }
  md += "\n";
  for (const auto& p : plan.points) md += plan_verdict(plan, p);
  return md + plan_global_batches(plan);
}

fs::path plan_picture(const Plan& plan, const fs::path& dir, const std::string& gnuplot) {
  fs::create_directories(dir);
  std::string data = "# workers, then efficiency and samples/s per batch\n", plots, tput;
  for (int n = 1; n <= plan.max_workers; n *= 2) {
    data += std::to_string(n);
    for (const auto& p : plan.points) {
      const auto r = project(step_at(plan, p), plan.cluster, n);
      data += fmt::format(" {:.5f} {:.4g}", r.efficiency, r.samples_per_s);
    }
    data += "\n";
  }
  for (size_t k = 0; k < plan.points.size(); ++k) {
    const std::string sep = k == 0 ? "" : ", ";
    plots += fmt::format("{}'projection.dat' using 1:{} with linespoints lw 2 title 'batch {:g}'", sep, 2 + 2 * k,
                         plan.points[k].batch);
    tput += fmt::format("{}'projection.dat' using 1:{} with linespoints lw 2 title 'batch {:g}'", sep, 3 + 2 * k,
                        plan.points[k].batch);
  }
  write_plan_file(dir / "projection.dat", data);
  write_plan_file(dir / "projection.gp",
                  fmt::format("set terminal pngcairo size 1000,640 font 'sans,10' noenhanced\nset output "
                              "'projection.png'\nset multiplot layout 1,2\nset grid\nset logscale x 2\nset xlabel "
                              "'workers'\nset title 'Projected scaling efficiency'\nset yrange [0:1.05]\nset key bottom "
                              "left\nplot {}, {} with lines dt 2 title '{:.0f} %'\nset autoscale y\nset logscale y 10\n"
                              "set title 'Projected throughput'\nset ylabel 'samples/s'\nset key top left\nplot {}\n"
                              "unset multiplot\n",
                              plots, plan.target_efficiency, 100 * plan.target_efficiency, tput));
  const std::string cmd = fmt::format("cd '{}' && {} projection.gp > /dev/null 2>&1", dir.string(), gnuplot);
  if (std::system(cmd.c_str()) != 0) return {};
  return dir / "projection.png";
}

}  // namespace tandem::sweep
