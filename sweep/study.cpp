#include "sweep/study.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/core/error.h"
#include "sweep/stats.h"

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
  std::vector<std::string> parts;
  for (size_t a = 0; a < p.keys.size(); ++a) {
    if (is_scale_key(p.keys[a])) continue;
    const auto dot = p.keys[a].rfind('.');
    parts.push_back(p.keys[a].substr(dot == std::string::npos ? 0 : dot + 1) + "=" + p.values[a]);
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

/// Groups the finished runs by grid combination.
void group_by_combination(Study& s) {
  for (size_t i = 0; i < s.record.points.size(); ++i) {
    const auto& p = s.record.points[i];
    Combo& c = s.combos[p.combo];
    c.combo = p.combo;
    c.variant = variant_label(p);
    ++c.repeats;
    if (s.runs[i].state != "done" || s.runs[i].steps == 0) continue;
    c.workers = s.runs[i].workers;
    c.batch = s.runs[i].batch_size;
    c.runs.push_back(&s.runs[i]);
  }
  for (const auto& [id, c] : s.combos) {
    if (c.runs.empty()) continue;
    s.batches.insert(c.batch);
    s.workers.insert(c.workers);
  }
}

/// Per batch size and worker count, the variant that reached the target
/// fastest (or, without a target, the one with the highest throughput).
BestCombos pick_best(const std::map<int, Combo>& combos, bool has_target) {
  auto score = [&](const Combo& x) {
    if (has_target) return x.all_reached() ? mean(x.times_to_target()) : 1e300;
    return -mean(x.throughputs());
  };
  BestCombos best;
  for (const auto& [id, c] : combos) {
    if (c.runs.empty()) continue;
    const Combo*& slot = best[c.batch][c.workers];
    if (slot == nullptr || score(c) < score(*slot)) slot = &c;
  }
  return best;
}

}  // namespace

std::vector<double> Combo::times_to_target() const {
  std::vector<double> v;
  for (const auto* r : runs) {
    if (r->time_to_target_s) v.push_back(*r->time_to_target_s);
  }
  return v;
}

std::vector<double> Combo::throughputs() const {
  std::vector<double> v;
  for (const auto* r : runs) v.push_back(r->samples_per_s);
  return v;
}

std::vector<double> Combo::step_times() const {
  std::vector<double> v;
  for (const auto* r : runs) v.push_back(r->step_s());
  return v;
}

std::vector<RunSummary> summarize_points(const fs::path& sweep_dir, const SweepRecord& record) {
  std::vector<RunSummary> runs;
  for (const auto& p : record.points) runs.push_back(summarize_run(sweep_dir / "points" / p.name()));
  return runs;
}

Study make_study(const fs::path& sweep_dir, const SweepRecord& record, std::vector<RunSummary> runs) {
  Study s(record);
  s.runs = std::move(runs);
  group_by_combination(s);
  if (s.batches.empty()) throw BadInput(fmt::format("{}: no point of the sweep has finished yet", sweep_dir.string()));
  s.has_target = !record.target_metric.empty();
  s.curve_metric = s.has_target ? record.target_metric : "loss";
  s.best = pick_best(s.combos, s.has_target);
  return s;
}

}  // namespace tandem::sweep
