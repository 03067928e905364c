#include "sweep/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

#include "framework/core/log.h"
#include "sweep/results.h"
#include "sweep/stats.h"
#include "sweep/report_parts.h"
#include "sweep/study.h"

namespace tandem::sweep {
namespace fs = std::filesystem;
using report_parts::figure_projection;
using report_parts::kTerminal;
using report_parts::quote;
using report_parts::write_text;
namespace {

std::string fmt_ci(const std::vector<double>& v, const char* spec = "{:.1f}") {
  if (v.empty()) return "–";
  const std::string m = fmt::format(fmt::runtime(spec), mean(v));
  if (v.size() < 2) return m;
  return m + " ± " + fmt::format(fmt::runtime(spec), ci95_half_width(v));
}

std::string report_header(const Study& s) {
  std::string md = fmt::format("# Scaling report: {}\n\n", fs::path(s.record.recipe).filename().string());
  size_t done = 0;
  for (const auto& r : s.runs) done += r.state == "done";
  md += fmt::format("{} of {} runs finished; recipe `{}`; per-run numbers are in `../results.csv`.\n", done,
                    s.runs.size(), s.record.recipe);
  if (s.has_target) {
    md += fmt::format("Target: `{}` reaching {:g}. Time-to-target counts from a run's first training step "
                      "(after start-up and data loading) and includes its validations.\n",
                      s.record.target_metric, s.record.target_value);
  }
  md += "Intervals are 95 % confidence intervals of the mean over repeats (Student's t).\n\n";
  return md;
}

// ---- 1. the metric against wall-clock, one panel per batch size --------------

/// The mean curve of a combination's repeats, as gnuplot data. Repeats log at
/// the same steps: time and value are averaged step by step.
std::string mean_curve(const Combo& c, const std::string& metric) {
  std::map<int64_t, std::pair<std::vector<double>, std::vector<double>>> by_step;
  for (const auto* r : c.runs) {
    const auto* curve = &r->loss_curve;
    auto it = r->val_curves.find(metric);
    if (metric != "loss" && it != r->val_curves.end()) curve = &it->second;
    for (const auto& pt : *curve) {
      by_step[pt.step].first.push_back(pt.time_s);
      by_step[pt.step].second.push_back(pt.value);
    }
  }
  std::string data = "# time_s value step\n";
  for (const auto& [step, tv] : by_step) {
    if (tv.first.size() != c.runs.size()) continue;  // a step not every repeat reached
    data += fmt::format("{:.4f} {:.6f} {}\n", mean(tv.first), mean(tv.second), step);
  }
  return data;
}

/// loss_vs_time.gp and its data; returns the report's section.
std::string figure_metric_vs_time(const Study& s, const fs::path& out) {
  std::string gp = std::string(kTerminal) + "set output 'loss_vs_time.png'\n";
  gp += fmt::format("set multiplot layout 1,{} title {}\n", s.batches.size(),
                    quote(s.curve_metric + " against wall-clock time (mean over repeats)"));
  for (int64_t b : s.batches) {
    std::vector<std::string> plots;
    for (const auto& [id, c] : s.combos) {
      if (c.runs.empty() || c.batch != b) continue;
      const std::string file = fmt::format("curve_{}.dat", id);
      write_text(out / file, mean_curve(c, s.curve_metric));
      const std::string title = fmt::format("{} worker{}{}", c.workers, c.workers == 1 ? "" : "s",
                                            c.variant.empty() ? "" : ", " + c.variant);
      plots.push_back(fmt::format("'{}' using 1:2 with linespoints pt 7 ps 0.4 lw 2 title {}", file, quote(title)));
    }
    gp += fmt::format("set title 'batch {} per worker'\nset xlabel 'seconds'\nset ylabel {}\nset grid\n", b,
                      quote(s.curve_metric));
    if (s.has_target) {
      gp += fmt::format("set arrow 1 from graph 0, first {0} to graph 1, first {0} nohead dt 2\n", s.record.target_value);
    }
    gp += fmt::format("plot {}\n", fmt::join(plots, ", "));
  }
  gp += "unset multiplot\n";
  write_text(out / "loss_vs_time.gp", gp);
  return "## " + s.curve_metric + " against wall-clock time\n\n![](loss_vs_time.png)\n\n";
}

// ---- 2-4. time-to-target, speedup and efficiency, throughput vs workers ----

/// What the scaling figures and table gather over the batch sizes.
struct ScalingFigures {
  std::string table;  ///< rows of the markdown table
  std::vector<std::string> ttt_plots, tput_plots, speed_plots, eff_plots;  ///< gnuplot's plot items
};

/// The gnuplot data of one batch size.
struct ScalingData {
  std::string ttt = "# workers mean_s ci_s ideal_s\n", tput = "# workers mean ci ideal\n",
              speed = "# workers speedup efficiency ideal\n";
};

/// A speedup in time to target, and whether the repeats resolve it: when the
/// two intervals overlap, the difference may be noise.
std::string speedup_finding(int64_t b, int w, int w_min, const std::vector<double>& ttt,
                            const std::vector<double>& base) {
  const double speedup = mean(base) / mean(ttt);
  std::string text = fmt::format("batch {} per worker: {} workers reach the target in {} s against {} s with {}: "
                                 "{:.2f}x the speed, {:.0f} % efficiency",
                                 b, w, fmt_ci(ttt), fmt_ci(base), w_min, speedup, 100.0 * speedup * w_min / w);
  if (!intervals_overlap(ttt, base)) return text + "; the 95 % intervals do not overlap: the difference is resolved";
  const size_t n = std::min(ttt.size(), base.size());
  if (n < 2) return text + "; one repeat gives no interval, so the difference is not resolved (set sweep.repeats >= 2)";
  const int needed = repeats_to_resolve(ttt, base);
  text += fmt::format("; the 95 % intervals overlap, so the difference is NOT resolved by {} repeats", n);
  if (needed > 0) return text + fmt::format(": at the observed spread about {} repeats would resolve it", needed);
  return text + ": at the observed spread no affordable number of repeats would resolve it (the gap is within the noise)";
}

/// One row of the scaling table: `c` at `w` workers against the fewest workers, `w_min`.
void add_scaling_row(const Study& s, int64_t b, int w, const Combo& c, const Combo* base, int w_min,
                     ScalingData& data, ScalingFigures& fig, std::vector<std::string>& findings) {
  const double base_ttt = base && base->all_reached() ? mean(base->times_to_target()) : 0.0;
  const double base_tput = base ? mean(base->throughputs()) : 0.0;
  const auto ttt = c.times_to_target();
  const double tput = mean(c.throughputs());
  double speedup = 0.0;
  if (s.has_target && c.all_reached() && base_ttt > 0) {
    const double m = mean(ttt);
    speedup = base_ttt / m;
    data.ttt += fmt::format("{} {:.4f} {:.4f} {:.4f}\n", w, m, ci95_half_width(ttt), base_ttt * w_min / w);
    data.speed += fmt::format("{} {:.4f} {:.4f} {}\n", w, speedup * w_min, speedup * w_min / w, w);
  }
  data.tput += fmt::format("{} {:.2f} {:.2f} {:.2f}\n", w, tput, ci95_half_width(c.throughputs()), base_tput * w / w_min);
  double comm = 0, exposed = 0;
  for (const auto* r : c.runs) {
    comm += r->comm_fraction();
    exposed += r->exposed_comm_fraction();
  }
  comm /= static_cast<double>(c.runs.size());
  exposed /= static_cast<double>(c.runs.size());
  const std::string ttt_text = !s.has_target ? "no target"
                               : c.all_reached()
                                   ? fmt_ci(ttt) + " s"
                                   : fmt::format("not reached ({} of {})", ttt.size(), c.runs.size());
  fig.table += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.1f} ms | {:.0f} % / {:.0f} % |\n", b, w,
                           c.variant.empty() ? "–" : c.variant, ttt_text,
                           speedup > 0 ? fmt::format("{:.2f}x", speedup) : "–",
                           speedup > 0 ? fmt::format("{:.0f} %", 100.0 * speedup * w_min / w) : "–",
                           fmt_ci(c.throughputs(), "{:.0f}"), 1000.0 * mean(c.step_times()), 100 * comm, 100 * exposed);
  if (speedup > 0 && w != w_min) findings.push_back(speedup_finding(b, w, w_min, ttt, base->times_to_target()));
}

/// The rows, data files and plot lines of one batch size.
void add_scaling_batch(const Study& s, const fs::path& out, int64_t b, const std::map<int, const Combo*>& by_workers,
                       ScalingFigures& fig, std::vector<std::string>& findings) {
  const int w_min = *s.workers.begin();
  const Combo* base = by_workers.count(w_min) ? by_workers.at(w_min) : nullptr;
  ScalingData data;
  for (const auto& [w, c] : by_workers) add_scaling_row(s, b, w, *c, base, w_min, data, fig, findings);
  const std::string ttt_file = fmt::format("ttt_b{}.dat", b), tput_file = fmt::format("tput_b{}.dat", b),
                    speed_file = fmt::format("speedup_b{}.dat", b);
  write_text(out / ttt_file, data.ttt);
  write_text(out / tput_file, data.tput);
  write_text(out / speed_file, data.speed);
  fig.ttt_plots.push_back(fmt::format("'{0}' using 1:2:3 with yerrorlines lw 2 title 'batch {1}', '{0}' using 1:4 with "
                                      "lines dt 2 lw 1 title 'ideal, batch {1}'",
                                      ttt_file, b));
  fig.tput_plots.push_back(fmt::format("'{0}' using 1:2:3 with yerrorlines lw 2 title 'batch {1}', '{0}' using 1:4 with "
                                       "lines dt 2 lw 1 title 'linear, batch {1}'",
                                       tput_file, b));
  fig.speed_plots.push_back(fmt::format("'{}' using 1:2 with linespoints pt 7 lw 2 title 'batch {}'", speed_file, b));
  fig.eff_plots.push_back(fmt::format("'{}' using 1:3 with linespoints pt 7 lw 2 title 'batch {}'", speed_file, b));
}

/// time_to_target.gp and speedup.gp (with a target), throughput.gp, their
/// data and the scaling table; returns the report's sections. The findings
/// (speedups reached) go to `findings`.
std::string figures_scaling(const Study& s, const fs::path& out, std::vector<std::string>& findings) {
  ScalingFigures fig;
  for (const auto& [b, by_workers] : s.best) add_scaling_batch(s, out, b, by_workers, fig, findings);
  const int w_min = *s.workers.begin();
  const std::string gp_ttt = std::string(kTerminal) + "set output 'time_to_target.png'\nset logscale xy 2\nset grid\n"
                             "set xlabel 'workers'\nset ylabel 'seconds to target'\nset key top right\n"
                             "set title 'Time to target (mean, 95 % CI) and the ideal T(1)/N'\n" +
                             fmt::format("plot {}\n", fmt::join(fig.ttt_plots, ", "));
  const std::string gp_tput = std::string(kTerminal) + "set output 'throughput.png'\nset grid\nset logscale xy 2\n"
                              "set xlabel 'workers'\nset ylabel 'training samples/s'\nset key top left\n"
                              "set title 'Throughput (mean, 95 % CI) and linear scaling'\n" +
                              fmt::format("plot {}\n", fmt::join(fig.tput_plots, ", "));
  std::string gp_speed = std::string(kTerminal) + "set output 'speedup.png'\nset multiplot layout 1,2\nset grid\n";
  gp_speed += fmt::format("set title 'Speedup in time to target (vs {} worker{})'\nset xlabel 'workers'\nset ylabel "
                          "'speedup'\nset key top left\nplot {}, '{}' using 1:4 with lines dt 2 title 'ideal'\n",
                          w_min, w_min == 1 ? "" : "s", fmt::join(fig.speed_plots, ", "),
                          fmt::format("speedup_b{}.dat", *s.batches.begin()));
  gp_speed += fmt::format("set title 'Scaling efficiency'\nset ylabel 'efficiency'\nset yrange [0:1.2]\nset key bottom "
                          "left\nplot {}, 1 with lines dt 2 title 'ideal'\nunset multiplot\n",
                          fmt::join(fig.eff_plots, ", "));
  std::string md;
  if (s.has_target) {
    write_text(out / "time_to_target.gp", gp_ttt);
    write_text(out / "speedup.gp", gp_speed);
    md += "## Time to target, speedup and efficiency\n\n![](time_to_target.png)\n\n![](speedup.png)\n\n";
  }
  write_text(out / "throughput.gp", gp_tput);
  md += "## Throughput\n\n![](throughput.png)\n\n";
  md += "Per batch size and worker count, the variant shown is the one that reached the target fastest (without a "
        "target: the fastest). Time-to-target and samples/s are means with 95 % intervals; comm / exposed are the "
        "gradient allreduce time and its part not hidden behind backward, as fractions of training time.\n\n"
        "| batch per worker | workers | variant | time to target | speedup | efficiency | samples/s | "
        "step time | comm / exposed |\n|---|---|---|---|---|---|---|---|---|\n" +
        fig.table + "\n";
  return md;
}

std::string findings_section(const std::vector<std::string>& findings) {
  if (findings.empty()) return "";
  std::string md = "## Findings\n\n";
  for (const auto& f : findings) md += "- " + f + ".\n";
  return md + "\n";
}

/// Runs gnuplot on every script in `out`. Without gnuplot the scripts and data
/// stay for later; returns the report's note on what was not drawn.
std::string draw(const fs::path& out, const std::string& gnuplot) {
  int drawn = 0, scripts = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().extension() != ".gp") continue;
    ++scripts;
    const std::string cmd = fmt::format("cd {} && {} {} > {}.err 2>&1", quote(out.string()), gnuplot,
                                        quote(entry.path().filename().string()), quote(entry.path().stem().string()));
    if (std::system(cmd.c_str()) == 0) {
      ++drawn;
      fs::remove(out / (entry.path().stem().string() + ".gp.err"));
      fs::remove(out / (entry.path().stem().string() + ".err"));
    }
  }
  if (drawn == scripts) return "";
  log_warn("report", "{} of {} pictures could not be drawn ({} missing or failed); the gnuplot scripts and data are "
           "in {}", scripts - drawn, scripts, gnuplot, out.string());
  return fmt::format("\n*{} of {} pictures were not drawn: gnuplot was missing or failed. Run `gnuplot NAME.gp` in "
                     "this directory.*\n",
                     scripts - drawn, scripts);
}

}  // namespace

namespace {

void write_results(const fs::path& sweep_dir, const SweepRecord& record, const std::vector<RunSummary>& runs) {
  write_results_csv(sweep_dir / "results.csv", record.points, runs, record.base_seed, record.target_metric,
                    record.target_value);
}

}  // namespace

void write_sweep_results(const fs::path& dir, const SweepRecord& record) {
  write_results(dir, record, summarize_points(dir, record));
}

fs::path write_report(const fs::path& sweep_dir, const ReportOptions& options) {
  const SweepRecord record = read_sweep_record(sweep_dir);
  const fs::path out = options.out_dir.empty() ? sweep_dir / "report" : options.out_dir;
  fs::create_directories(out);
  std::vector<RunSummary> runs = summarize_points(sweep_dir, record);
  write_results(sweep_dir, record, runs);
  const Study study = make_study(sweep_dir, record, std::move(runs));
  std::vector<std::string> findings;
  std::string md = report_header(study);
  md += figure_metric_vs_time(study, out);
  md += figures_scaling(study, out, findings);
  md += figure_projection(study, out, sweep_dir, options);
  md += findings_section(findings);
  md += draw(out, options.gnuplot);
  write_text(out / "report.md", md);
  return out / "report.md";
}

}  // namespace tandem::sweep
