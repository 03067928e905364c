#include "sweep/results.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "framework/core/error.h"
#include "framework/core/atomic_file.h"

namespace tandem::sweep {
namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

bool lower_is_better(const std::string& metric) {
  // Losses, the language-model scores (negative log-likelihood, bits per
  // character, perplexity) and the survival scores (Brier, binomial log-loss).
  const std::string name = metric.rfind("val_", 0) == 0 ? metric.substr(4) : metric;
  return name.find("loss") != std::string::npos || name == "nll" || name == "bpc" || name == "perplexity" ||
         name == "ibs" || name == "inbll";
}

RunSummary summarize_run(const std::filesystem::path& run_dir) {
  RunSummary r;
  const auto status_path = run_dir / "status.json";
  if (std::filesystem::exists(status_path)) {
    std::ifstream in(status_path);
    const auto status = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (status.is_object()) {
      r.state = status.value("state", "missing");
      r.exit_code = status.value("exit_code", 0);
      r.wall_s = status.value("wall_s", 0.0);
    }
  }
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line;
  int64_t start_step = 0;
  auto note = [&r](const std::string& name, double value) {
    r.final_metrics[name] = value;
    auto it = r.best_metrics.find(name);
    if (it == r.best_metrics.end()) {
      r.best_metrics[name] = value;
    } else {
      it->second = lower_is_better(name) ? std::min(it->second, value) : std::max(it->second, value);
    }
  };
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) continue;  // a line cut short by a kill
    const std::string kind = j.value("kind", "");
    if (kind == "start") {
      // A restarted run starts again; its newest attempt is the one summarised.
      r.workers = j.value("world_size", 0);
      r.batch_size = j.value("batch_size", int64_t{0});
      r.global_batch = j.value("global_batch", int64_t{0});
      r.lr = j.value("lr", 0.0);
      start_step = j.value("global_step", int64_t{0});
    } else if (kind == "step") {
      const double loss = j.value("loss", 0.0);
      r.loss_curve.push_back({j.value("time_s", 0.0), j.value("global_step", int64_t{0}), loss});
      note("loss", loss);
    } else if (kind == "eval" || kind == "epoch") {
      for (const auto& [key, value] : j.items()) {
        if (key.rfind("val_", 0) != 0 || !value.is_number()) continue;
        r.val_curves[key].push_back({j.value("time_s", 0.0), j.value("global_step", int64_t{0}), value.get<double>()});
        note(key, value.get<double>());
      }
    } else if (kind == "target" && !r.time_to_target_s) {
      r.time_to_target_s = j.value("time_s", 0.0);
      r.target_step = j.value("global_step", int64_t{0});
    } else if (kind == "early_stop") {
      r.early_stop_step = j.value("global_step", int64_t{0});
    } else if (kind == "end") {
      r.steps = j.value("global_step", int64_t{0}) - start_step;
      r.time_s = j.value("time_s", 0.0);
      r.eval_s = j.value("eval_s", 0.0);
      r.comm_s = j.value("ddp_comm_s", 0.0);
      r.exposed_comm_s = j.value("ddp_exposed_comm_s", 0.0);
      r.bytes_per_step = j.value("ddp_bytes_per_step", 0.0);
      r.buckets = j.value("ddp_buckets", 0);
      const double train_s = r.time_s - r.eval_s;
      r.samples_per_s = train_s > 0 ? j.value("samples", 0.0) / train_s : 0.0;
    }
  }
  return r;
}

void write_results_csv(const std::filesystem::path& path, const std::vector<SweepPoint>& points,
                       const std::vector<RunSummary>& runs, uint64_t base_seed, const std::string& target_metric,
                       double target_value) {
  if (points.size() != runs.size()) throw std::invalid_argument("write_results_csv: one summary per point");
  std::set<std::string> metric_names;
  for (const auto& r : runs) {
    for (const auto& kv : r.final_metrics) metric_names.insert(kv.first);
  }
  std::vector<std::string> header{"point", "name", "repeat"};
  if (!points.empty()) header.insert(header.end(), points.front().keys.begin(), points.front().keys.end());
  for (const char* h : {"seed", "state", "exit_code", "workers", "batch_size", "global_batch", "lr", "steps",
                        "wall_s", "time_s", "eval_s", "step_s", "samples_per_s", "comm_fraction",
                        "exposed_comm_fraction", "bytes_per_step", "buckets"}) {
    header.emplace_back(h);
  }
  for (const auto& m : metric_names) header.push_back("final_" + m);
  for (const auto& m : metric_names) header.push_back("best_" + m);
  for (const char* h : {"target_metric", "target_value", "time_to_target_s", "target_step", "early_stop_step"}) {
    header.emplace_back(h);
  }

  std::string text;
  for (size_t i = 0; i < header.size(); ++i) text += (i ? "," : "") + csv_field(header[i]);
  text += "\n";
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const auto& r = runs[i];
    std::vector<std::string> row{std::to_string(p.index), p.name(), std::to_string(p.repeat)};
    row.insert(row.end(), p.values.begin(), p.values.end());
    const bool ran = r.steps > 0;
    auto if_ran = [ran](const std::string& v) { return ran ? v : std::string(); };
    row.push_back(std::to_string(p.seed(base_seed)));
    row.push_back(r.state);
    row.push_back(std::to_string(r.exit_code));
    row.push_back(if_ran(std::to_string(r.workers)));
    row.push_back(if_ran(std::to_string(r.batch_size)));
    row.push_back(if_ran(std::to_string(r.global_batch)));
    row.push_back(if_ran(number(r.lr)));
    row.push_back(std::to_string(r.steps));
    row.push_back(number(r.wall_s));
    row.push_back(if_ran(number(r.time_s)));
    row.push_back(if_ran(number(r.eval_s)));
    row.push_back(if_ran(number(r.step_s())));
    row.push_back(if_ran(number(r.samples_per_s)));
    row.push_back(if_ran(number(r.comm_fraction())));
    row.push_back(if_ran(number(r.exposed_comm_fraction())));
    row.push_back(if_ran(number(r.bytes_per_step)));
    row.push_back(if_ran(std::to_string(r.buckets)));
    for (const auto& m : metric_names) row.push_back(r.final_metrics.count(m) ? number(r.final_metrics.at(m)) : "");
    for (const auto& m : metric_names) row.push_back(r.best_metrics.count(m) ? number(r.best_metrics.at(m)) : "");
    row.push_back(target_metric);
    row.push_back(target_metric.empty() ? "" : number(target_value));
    row.push_back(r.time_to_target_s ? number(*r.time_to_target_s) : "");
    row.push_back(r.target_step ? std::to_string(*r.target_step) : "");
    row.push_back(r.early_stop_step ? std::to_string(*r.early_stop_step) : "");
    for (size_t k = 0; k < row.size(); ++k) text += (k ? "," : "") + csv_field(row[k]);
    text += "\n";
  }
  write_file_atomically(path, text);
}

}  // namespace tandem::sweep
