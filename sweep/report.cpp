#include "sweep/report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/train/run_dir.h"

namespace tandem::sweep {
namespace fs = std::filesystem;
namespace {

/// Grid keys that say how many workers and how large a batch: the report's
/// axes. Every other swept key (learning rate, ...) makes a variant.
bool is_scale_key(const std::string& key) {
  return key == "launch.nproc_per_node" || key == "launch.nnodes" || key == "trainer.batch_size" ||
         key == "trainer.global_batch_size";
}

std::string variant_label(const SweepPoint& p) {
  std::string out;
  for (size_t a = 0; a < p.keys.size(); ++a) {
    if (is_scale_key(p.keys[a])) continue;
    const auto dot = p.keys[a].rfind('.');
    out += (out.empty() ? "" : " ") + p.keys[a].substr(dot == std::string::npos ? 0 : dot + 1) + "=" + p.values[a];
  }
  return out;
}

/// One grid combination and its repeats.
struct Combo {
  int combo = 0;
  int workers = 0;
  int64_t batch = 0;   ///< per worker
  std::string variant;
  std::vector<const RunSummary*> runs;  ///< the repeats that finished
  int repeats = 0;

  std::vector<double> times_to_target() const {
    std::vector<double> v;
    for (const auto* r : runs) {
      if (r->time_to_target_s) v.push_back(*r->time_to_target_s);
    }
    return v;
  }
  bool all_reached() const { return !runs.empty() && times_to_target().size() == runs.size(); }
  std::vector<double> throughputs() const {
    std::vector<double> v;
    for (const auto* r : runs) v.push_back(r->samples_per_s);
    return v;
  }
  std::vector<double> step_times() const {
    std::vector<double> v;
    for (const auto* r : runs) v.push_back(r->step_s());
    return v;
  }
};

std::string fmt_ci(const std::vector<double>& v, const char* spec = "{:.1f}") {
  if (v.empty()) return "–";
  const std::string m = fmt::format(fmt::runtime(spec), mean(v));
  if (v.size() < 2) return m;
  return m + " ± " + fmt::format(fmt::runtime(spec), ci95_half_width(v));
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* kTerminal = "set terminal pngcairo size 1000,640 font 'sans,10' noenhanced\n";

}  // namespace

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double ci95_half_width(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  // Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom.
  static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                             2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  const double m = mean(v);
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  const size_t df = v.size() - 1;
  const double sd = std::sqrt(ss / static_cast<double>(df));
  const double q = df <= 30 ? t[df - 1] : 1.960;
  return q * sd / std::sqrt(static_cast<double>(v.size()));
}

void write_sweep_record(const fs::path& dir, const SweepRecord& r) {
  nlohmann::json j;
  j["recipe"] = r.recipe;
  j["overrides"] = r.overrides;
  j["base_config"] = r.base_config;
  j["base_seed"] = r.base_seed;
  j["target"] = {{"metric", r.target_metric}, {"value", r.target_value}};
  j["points"] = nlohmann::json::array();
  for (const auto& p : r.points) {
    j["points"].push_back({{"index", p.index}, {"combo", p.combo}, {"repeat", p.repeat}, {"name", p.name()},
                           {"keys", p.keys}, {"values", p.values}});
  }
  write_file_atomically(dir / "sweep.json", j.dump(2) + "\n");
}

SweepRecord read_sweep_record(const fs::path& dir) {
  std::ifstream in(dir / "sweep.json");
  if (!in) throw BadInput(fmt::format("{}: not a sweep directory (no sweep.json); run tandem sweep RECIPE first", dir.string()));
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("points")) throw BadInput(fmt::format("{}: sweep.json is damaged", dir.string()));
  SweepRecord r;
  r.recipe = j.value("recipe", "");
  r.overrides = j.value("overrides", std::vector<std::string>{});
  r.base_config = j.value("base_config", "");
  r.base_seed = j.value("base_seed", uint64_t{0});
  r.target_metric = j["target"].value("metric", "");
  r.target_value = j["target"].value("value", 0.0);
  for (const auto& p : j["points"]) {
    SweepPoint point;
    point.index = p.value("index", 0);
    point.combo = p.value("combo", 0);
    point.repeat = p.value("repeat", 0);
    point.keys = p.value("keys", std::vector<std::string>{});
    point.values = p.value("values", std::vector<std::string>{});
    r.points.push_back(std::move(point));
  }
  return r;
}

void write_sweep_results(const fs::path& dir, const SweepRecord& record) {
  std::vector<RunSummary> runs;
  for (const auto& p : record.points) runs.push_back(summarize_run(dir / "points" / p.name()));
  write_results_csv(dir / "results.csv", record.points, runs, record.base_seed, record.target_metric,
                    record.target_value);
}

fs::path write_report(const fs::path& sweep_dir, const ReportOptions& options) {
  const SweepRecord record = read_sweep_record(sweep_dir);
  const fs::path out = options.out_dir.empty() ? sweep_dir / "report" : options.out_dir;
  fs::create_directories(out);

  std::vector<RunSummary> runs;
  for (const auto& p : record.points) runs.push_back(summarize_run(sweep_dir / "points" / p.name()));
  write_results_csv(sweep_dir / "results.csv", record.points, runs, record.base_seed, record.target_metric,
                    record.target_value);

  // Group the finished runs by grid combination.
  std::map<int, Combo> combos;
  for (size_t i = 0; i < record.points.size(); ++i) {
    const auto& p = record.points[i];
    Combo& c = combos[p.combo];
    c.combo = p.combo;
    c.variant = variant_label(p);
    ++c.repeats;
    if (runs[i].state != "done" || runs[i].steps == 0) continue;
    c.workers = runs[i].workers;
    c.batch = runs[i].batch_size;
    c.runs.push_back(&runs[i]);
  }
  std::set<int64_t> batches;
  std::set<int> workers;
  std::set<std::string> variants;
  for (const auto& [id, c] : combos) {
    if (c.runs.empty()) continue;
    batches.insert(c.batch);
    workers.insert(c.workers);
    variants.insert(c.variant);
  }
  if (batches.empty()) throw BadInput(fmt::format("{}: no point of the sweep has finished yet", sweep_dir.string()));
  const bool has_target = !record.target_metric.empty();
  const std::string curve_metric = has_target ? record.target_metric : "loss";

  std::string md = fmt::format("# Scaling report: {}\n\n", fs::path(record.recipe).filename().string());
  size_t done = 0;
  for (const auto& r : runs) done += r.state == "done";
  md += fmt::format("{} of {} runs finished; recipe `{}`; per-run numbers are in `../results.csv`.\n", done,
                    runs.size(), record.recipe);
  if (has_target) {
    md += fmt::format("Target: `{}` reaching {:g}. Time-to-target counts from a run's first training step "
                      "(after start-up and data loading) and includes its validations.\n",
                      record.target_metric, record.target_value);
  }
  md += "Intervals are 95 % confidence intervals of the mean over repeats (Student's t).\n\n";

  // ---- 1. the metric against wall-clock, one panel per batch size --------------
  {
    std::string gp = std::string(kTerminal) + "set output 'loss_vs_time.png'\n";
    gp += fmt::format("set multiplot layout 1,{} title {}\n", batches.size(),
                      quote(curve_metric + " against wall-clock time (mean over repeats)"));
    for (int64_t b : batches) {
      std::string plots;
      for (const auto& [id, c] : combos) {
        if (c.runs.empty() || c.batch != b) continue;
        // Repeats log at the same steps: average time and value step by step.
        std::map<int64_t, std::pair<std::vector<double>, std::vector<double>>> by_step;
        for (const auto* r : c.runs) {
          const auto* curve = &r->loss_curve;
          auto it = r->val_curves.find(curve_metric);
          if (curve_metric != "loss" && it != r->val_curves.end()) curve = &it->second;
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
        const std::string file = fmt::format("curve_{}.dat", id);
        write_text(out / file, data);
        const std::string title = fmt::format("{} worker{}{}", c.workers, c.workers == 1 ? "" : "s",
                                              c.variant.empty() ? "" : ", " + c.variant);
        plots += fmt::format("{}'{}' using 1:2 with linespoints pt 7 ps 0.4 lw 2 title {}", plots.empty() ? "" : ", ",
                             file, quote(title));
      }
      gp += fmt::format("set title 'batch {} per worker'\nset xlabel 'seconds'\nset ylabel {}\nset grid\n", b,
                        quote(curve_metric));
      if (has_target) gp += fmt::format("set arrow 1 from graph 0, first {0} to graph 1, first {0} nohead dt 2\n", record.target_value);
      gp += "plot " + plots + "\n";
    }
    gp += "unset multiplot\n";
    write_text(out / "loss_vs_time.gp", gp);
    md += "## " + curve_metric + " against wall-clock time\n\n![](loss_vs_time.png)\n\n";
  }

  // ---- 2-4. time-to-target, speedup and efficiency, throughput vs workers ----
  // Per batch size and worker count, the variant that reached the target
  // fastest (or, without a target, the one with the highest throughput).
  struct Best {
    const Combo* combo = nullptr;
  };
  std::map<int64_t, std::map<int, Best>> best;
  for (const auto& [id, c] : combos) {
    if (c.runs.empty()) continue;
    Best& slot = best[c.batch][c.workers];
    auto score = [&](const Combo& x) {
      if (has_target) return x.all_reached() ? mean(x.times_to_target()) : 1e300;
      return -mean(x.throughputs());
    };
    if (slot.combo == nullptr || score(c) < score(*slot.combo)) slot.combo = &c;
  }
  std::string ttt_table = "| batch per worker | workers | variant | time to target | speedup | efficiency | samples/s | "
                          "step time | comm / exposed |\n|---|---|---|---|---|---|---|---|---|\n";
  std::string gp_ttt = std::string(kTerminal) + "set output 'time_to_target.png'\nset logscale xy 2\nset grid\n"
                       "set xlabel 'workers'\nset ylabel 'seconds to target'\nset key top right\n"
                       "set title 'Time to target (mean, 95 % CI) and the ideal T(1)/N'\n";
  std::string gp_speed = std::string(kTerminal) + "set output 'speedup.png'\nset multiplot layout 1,2\nset grid\n";
  std::string gp_tput = std::string(kTerminal) + "set output 'throughput.png'\nset grid\nset logscale xy 2\n"
                        "set xlabel 'workers'\nset ylabel 'training samples/s'\nset key top left\n"
                        "set title 'Throughput (mean, 95 % CI) and linear scaling'\n";
  std::string ttt_plots, tput_plots, speed_plots, eff_plots;
  std::vector<std::string> findings;
  const int w_min = *workers.begin();
  for (const auto& [b, by_workers] : best) {
    std::string ttt_data = "# workers mean_s ci_s ideal_s\n", tput_data = "# workers mean ci ideal\n",
                speed_data = "# workers speedup efficiency ideal\n";
    const Combo* base = by_workers.count(w_min) ? by_workers.at(w_min).combo : nullptr;
    const double base_ttt = base && base->all_reached() ? mean(base->times_to_target()) : 0.0;
    const double base_tput = base ? mean(base->throughputs()) : 0.0;
    for (const auto& [w, slot] : by_workers) {
      const Combo& c = *slot.combo;
      const auto ttt = c.times_to_target();
      const double tput = mean(c.throughputs());
      double speedup = 0.0;
      if (has_target && c.all_reached() && base_ttt > 0) {
        const double m = mean(ttt);
        speedup = base_ttt / m;
        ttt_data += fmt::format("{} {:.4f} {:.4f} {:.4f}\n", w, m, ci95_half_width(ttt), base_ttt * w_min / w);
        speed_data += fmt::format("{} {:.4f} {:.4f} {}\n", w, speedup * w_min, speedup * w_min / w, w);
      }
      tput_data += fmt::format("{} {:.2f} {:.2f} {:.2f}\n", w, tput, ci95_half_width(c.throughputs()),
                               base_tput * w / w_min);
      double comm = 0, exposed = 0;
      for (const auto* r : c.runs) {
        comm += r->comm_fraction();
        exposed += r->exposed_comm_fraction();
      }
      comm /= static_cast<double>(c.runs.size());
      exposed /= static_cast<double>(c.runs.size());
      const std::string ttt_text =
          !has_target ? "no target" : (c.all_reached() ? fmt_ci(ttt) + " s" : fmt::format("not reached ({} of {})", ttt.size(), c.runs.size()));
      ttt_table += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.1f} ms | {:.0f} % / {:.0f} % |\n", b, w,
                               c.variant.empty() ? "–" : c.variant, ttt_text,
                               speedup > 0 ? fmt::format("{:.2f}x", speedup) : "–",
                               speedup > 0 ? fmt::format("{:.0f} %", 100.0 * speedup * w_min / w) : "–",
                               fmt_ci(c.throughputs(), "{:.0f}"), 1000.0 * mean(c.step_times()), 100 * comm,
                               100 * exposed);
      if (speedup > 0 && w != w_min) {
        findings.push_back(fmt::format("batch {} per worker: {} workers reach the target in {:.1f} s against {:.1f} s "
                                       "with {}: {:.2f}x the speed, {:.0f} % efficiency",
                                       b, w, mean(ttt), base_ttt, w_min, speedup, 100.0 * speedup * w_min / w));
      }
    }
    const std::string ttt_file = fmt::format("ttt_b{}.dat", b), tput_file = fmt::format("tput_b{}.dat", b),
                      speed_file = fmt::format("speedup_b{}.dat", b);
    write_text(out / ttt_file, ttt_data);
    write_text(out / tput_file, tput_data);
    write_text(out / speed_file, speed_data);
    const std::string sep = ttt_plots.empty() ? "" : ", ";
    ttt_plots += fmt::format("{0}'{1}' using 1:2:3 with yerrorlines lw 2 title 'batch {2}', '{1}' using 1:4 with "
                             "lines dt 2 lw 1 title 'ideal, batch {2}'",
                             sep, ttt_file, b);
    tput_plots += fmt::format("{0}'{1}' using 1:2:3 with yerrorlines lw 2 title 'batch {2}', '{1}' using 1:4 with "
                              "lines dt 2 lw 1 title 'linear, batch {2}'",
                              sep, tput_file, b);
    speed_plots += fmt::format("{}'{}' using 1:2 with linespoints pt 7 lw 2 title 'batch {}'", sep, speed_file, b);
    eff_plots += fmt::format("{}'{}' using 1:3 with linespoints pt 7 lw 2 title 'batch {}'", sep, speed_file, b);
  }
  gp_ttt += "plot " + ttt_plots + "\n";
  gp_tput += "plot " + tput_plots + "\n";
  const std::string first_speed = fmt::format("speedup_b{}.dat", *batches.begin());
  gp_speed += fmt::format("set title 'Speedup in time to target (vs {} worker{})'\nset xlabel 'workers'\nset ylabel "
                          "'speedup'\nset key top left\nplot {}, '{}' using 1:4 with lines dt 2 title 'ideal'\n",
                          w_min, w_min == 1 ? "" : "s", speed_plots, first_speed);
  gp_speed += "set title 'Scaling efficiency'\nset ylabel 'efficiency'\nset yrange [0:1.2]\nset key bottom left\nplot " +
              eff_plots + ", 1 with lines dt 2 title 'ideal'\nunset multiplot\n";
  if (has_target) {
    write_text(out / "time_to_target.gp", gp_ttt);
    write_text(out / "speedup.gp", gp_speed);
    md += "## Time to target, speedup and efficiency\n\n![](time_to_target.png)\n\n![](speedup.png)\n\n";
  }
  write_text(out / "throughput.gp", gp_tput);
  md += "## Throughput\n\n![](throughput.png)\n\n";
  md += "Per batch size and worker count, the variant shown is the one that reached the target fastest (without a "
        "target: the fastest). Time-to-target and samples/s are means with 95 % intervals; comm / exposed are the "
        "gradient allreduce time and its part not hidden behind backward, as fractions of training time.\n\n" +
        ttt_table + "\n";

  // ---- 5. projection with the alpha-beta model ---------------------------------
  std::vector<Network> nets;
  {
    std::ifstream in(sweep_dir / "network.json");
    const auto j = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    if (j.is_object() && j.contains("alpha_s")) {
      nets.push_back({fmt::format("measured here (Gloo, loopback): alpha {:.0f} us, {:.2f} GB/s",
                                  j["alpha_s"].get<double>() * 1e6, 1e-9 / j["beta_s_per_byte"].get<double>()),
                      j["alpha_s"].get<double>(), j["beta_s_per_byte"].get<double>()});
    }
  }
  nets.insert(nets.end(), options.networks.begin(), options.networks.end());
  // The step model per batch size: compute time from the fewest-worker run
  // (1 worker: no communication at all), bytes and buckets from the runs.
  std::string proj_md = "## Projection beyond this machine\n\n";
  std::string gp_proj = std::string(kTerminal) + "set output 'projection.png'\nset multiplot layout 1,2\nset grid\n"
                        "set logscale x 2\nset xlabel 'workers'\nset key bottom left font ',8'\n";
  std::string proj_eff, proj_tput;
  for (const auto& [b, by_workers] : best) {
    const Combo* base = by_workers.begin()->second.combo;
    StepModel model;
    model.compute_s = mean(base->step_times());
    for (const auto& [w, slot] : by_workers) {
      for (const auto* r : slot.combo->runs) {
        model.bytes = std::max(model.bytes, r->bytes_per_step);
        model.buckets = std::max(model.buckets, r->buckets);
      }
    }
    model.overlap = options.overlap;
    model.batch_per_worker = static_cast<double>(b);
    if (by_workers.begin()->first != 1) {
      proj_md += fmt::format("Batch {}: no 1-worker run, so the compute time ({:.1f} ms) is the step time at {} "
                             "workers and includes their communication.\n\n",
                             b, 1000 * model.compute_s, by_workers.begin()->first);
    }
    if (model.bytes <= 0) continue;
    std::string table = fmt::format("Batch {} per worker: compute {:.1f} ms per step, {:.2f} MB of gradients in {} "
                                    "bucket{} per step.\n\n| workers |",
                                    b, 1000 * model.compute_s, model.bytes / 1e6, model.buckets,
                                    model.buckets == 1 ? "" : "s");
    for (const auto& n : nets) table += " " + n.name + " |";
    table += "\n|---|";
    for (size_t k = 0; k < nets.size(); ++k) table += "---|";
    table += "\n";
    std::vector<std::string> rows;
    for (int n = 1; n <= 1024; n *= 2) {
      std::string row = fmt::format("| {} |", n);
      for (const auto& net : nets) {
        const auto p = project(model, net, n);
        row += fmt::format(" {:.0f} samples/s, efficiency {:.0f} % |", p.samples_per_s, 100 * p.efficiency);
      }
      rows.push_back(row);
    }
    for (size_t k = 0; k < nets.size(); ++k) {
      std::string data = "# workers efficiency samples_per_s step_s comm_s\n";
      for (int n = 1; n <= 1024; n *= 2) {
        const auto p = project(model, nets[k], n);
        data += fmt::format("{} {:.5f} {:.3f} {:.6f} {:.6f}\n", n, p.efficiency, p.samples_per_s, p.step_s, p.comm_s);
      }
      const std::string file = fmt::format("projection_b{}_n{}.dat", b, k);
      write_text(out / file, data);
      const std::string sep = proj_eff.empty() ? "" : ", ";
      proj_eff += fmt::format("{}'{}' using 1:2 with lines lw 2 title {}", sep, file, quote(fmt::format("b{}: {}", b, nets[k].name)));
      proj_tput += fmt::format("{}'{}' using 1:3 with lines lw 2 title {}", sep, file, quote(fmt::format("b{}: {}", b, nets[k].name)));
    }
    std::string measured = "# workers efficiency samples_per_s\n";
    for (const auto& [w, slot] : by_workers) {
      measured += fmt::format("{} {:.5f} {:.3f}\n", w, model.compute_s / mean(slot.combo->step_times()),
                              mean(slot.combo->throughputs()));
    }
    const std::string mfile = fmt::format("measured_b{}.dat", b);
    write_text(out / mfile, measured);
    proj_eff += fmt::format(", '{}' using 1:2 with points pt 7 ps 1.5 title 'b{}: measured'", mfile, b);
    proj_tput += fmt::format(", '{}' using 1:3 with points pt 7 ps 1.5 title 'b{}: measured'", mfile, b);
    proj_md += table;
    for (const auto& r : rows) proj_md += r + "\n";
    proj_md += "\n";
  }
  gp_proj += "set title 'Projected scaling efficiency (fixed batch per worker)'\nset ylabel 'efficiency'\n"
             "set yrange [0:1.05]\nplot " + proj_eff + "\nset autoscale y\nset logscale y 2\n"
             "set title 'Projected throughput'\nset ylabel 'samples/s'\nset logscale y 10\nset format y '%.0s%c'\n"
             "set key top left font ',8'\nplot " + proj_tput +
             "\nunset multiplot\n";
  if (!proj_eff.empty()) {
    write_text(out / "projection.gp", gp_proj);
    md += proj_md + "![](projection.png)\n\n";
    md += fmt::format("The model (docs/sweep.md): a step costs its compute time plus the part of ring-allreduce time "
                      "(2(N-1) alpha per bucket + 2(N-1)/N x bytes x beta) that does not fit behind the {:.0f} % of "
                      "compute that is backward. Compute is this machine's; a faster device shrinks it and makes "
                      "communication matter more.\n\n",
                      100 * options.overlap);
  }

  if (!findings.empty()) {
    md += "## Findings\n\n";
    for (const auto& f : findings) md += "- " + f + ".\n";
    md += "\n";
  }

  // Draw. Without gnuplot the scripts and data stay for later.
  int drawn = 0, scripts = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().extension() != ".gp") continue;
    ++scripts;
    const std::string cmd = fmt::format("cd {} && {} {} > {}.err 2>&1", quote(out.string()), options.gnuplot,
                                        quote(entry.path().filename().string()), quote(entry.path().stem().string()));
    if (std::system(cmd.c_str()) == 0) {
      ++drawn;
      fs::remove(out / (entry.path().stem().string() + ".gp.err"));
      fs::remove(out / (entry.path().stem().string() + ".err"));
    }
  }
  if (drawn < scripts) {
    log_warn("report", "{} of {} pictures could not be drawn ({} missing or failed); the gnuplot scripts and data are "
             "in {}", scripts - drawn, scripts, options.gnuplot, out.string());
    md += fmt::format("\n*{} of {} pictures were not drawn: gnuplot was missing or failed. Run `gnuplot NAME.gp` in "
                      "this directory.*\n",
                      scripts - drawn, scripts);
  }
  write_text(out / "report.md", md);
  return out / "report.md";
}

}  // namespace tandem::sweep
