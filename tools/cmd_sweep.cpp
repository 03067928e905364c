// `tandem sweep RECIPE`: run the recipe's grid, one launch per point,
// resumably; `tandem report SWEEP_DIR`: draw the scaling report.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/train/options.h"
#include "framework/train/progress.h"
#include "launch/launcher.h"
#include "sweep/grid.h"
#include "sweep/report.h"
#include "sweep/results.h"
#include "sweep/runner.h"
#include "sweep/sweep_record.h"
#include "tools/commands.h"
#include "tools/recipe_schema.h"

namespace tandem::cli {
namespace fs = std::filesystem;
namespace {

/// Every point validated before any runs: all problems, each naming its point.
void validate_points(const std::string& recipe, const std::vector<std::string>& overrides,
                     const std::vector<sweep::SweepPoint>& points, uint64_t base_seed) {
  std::vector<std::string> problems;
  for (const auto& p : points) {
    if (p.repeat > 0) continue;  // repeats differ only in the seed
    auto all = overrides;
    const auto mine = p.overrides(base_seed);
    all.insert(all.end(), mine.begin(), mine.end());
    try {
      load_recipe(recipe, all);
    } catch (const BadInputList& e) {
      for (const auto& problem : e.problems()) {
        // Point at the sweep's value when the problem is one of the swept keys.
        std::string where;
        for (size_t a = 0; a < p.keys.size(); ++a) {
          if (problem.find("'" + p.keys[a] + "=") != std::string::npos || problem.find(p.keys[a] + ":") != std::string::npos) {
            where = p.where[a] + ": ";
          }
        }
        problems.push_back(fmt::format("{}point {} of {} ({}): {}", where, p.index + 1, points.size(), p.label(), problem));
      }
    }
  }
  if (!problems.empty()) throw BadInputList(problems);
}

void probe_network(const fs::path& dir) {
  launch::WorkerGroupSpec spec;
  spec.argv = {self_executable(), "probe-allreduce", "--out", (dir / "network.json").string()};
  spec.nproc_per_node = 2;
  spec.logs_dir = dir / "network_probe";
  spec.timeout_s = 120;
  const auto result = launch::run_workers(spec);
  if (result.exit_code != 0) log_warn("sweep", "the allreduce probe failed; the report will project only to given networks");
}

struct SweepArgs {
  std::string recipe;
  std::vector<std::string> overrides;
  std::string dir;
  bool fresh = false;
  bool dry_run = false;
  bool no_probe = false;
};

/// What sweep.json records: the recipe, overrides, resolved base and grid.
sweep::SweepRecord make_record(const SweepArgs& args, const recipe::Resolved& base, const TrainerOptions& trainer,
                               const std::vector<sweep::SweepPoint>& points) {
  sweep::SweepRecord record;
  record.recipe = fs::absolute(args.recipe).string();
  record.overrides = args.overrides;
  record.base_config = recipe::to_yaml(base.config);
  record.base_seed = trainer.seed;
  record.target_metric = trainer.target.metric;
  record.target_value = trainer.target.metric.empty() ? 0.0 : trainer.target.value;
  record.points = points;
  return record;
}

/// A sweep directory holds one sweep: continuing it needs the same recipe,
/// overrides and grid; --fresh discards what it holds instead.
void prepare_dir(const fs::path& dir, const sweep::SweepRecord& record, bool fresh) {
  if (fs::exists(dir / "sweep.json")) {
    const auto old = sweep::read_sweep_record(dir);
    std::vector<std::string> old_names, new_names;
    for (const auto& p : old.points) old_names.push_back(p.name());
    for (const auto& p : record.points) new_names.push_back(p.name());
    const bool same = old.base_config == record.base_config && old_names == new_names;
    if (!same && !fresh) {
      throw BadInput(fmt::format("{} holds a sweep of a different recipe, overrides or grid; pass --dir NEW_DIR, or "
                                 "--fresh to discard its results",
                                 dir.string()));
    }
    if (fresh) {
      log_warn("sweep", "--fresh: discarding the points in {}", dir.string());
      fs::remove_all(dir / "points");
      fs::remove(dir / "results.csv");
    }
  }
  fs::create_directories(dir / "points");
  sweep::write_sweep_record(dir, record);
}

/// Points done, failed and run so far, for the progress lines.
struct SweepProgress {
  int done = 0, failed = 0, ran = 0;
  double ran_seconds = 0.0;
};

/// Logs a finished point: its final metrics, time to target and the ETA; on
/// failure, the end of its launch log.
void report_point(const sweep::SweepPoint& p, const fs::path& pdir, const sweep::PointOutcome& outcome, bool ok,
                  const SweepProgress& progress, std::size_t total) {
  const auto summary = sweep::summarize_run(pdir);
  std::string line;
  for (const auto& [name, value] : summary.final_metrics) line += fmt::format(" {} {:.4f}", name, value);
  if (summary.time_to_target_s) line += fmt::format(", target at {:.1f} s", *summary.time_to_target_s);
  const int finished = progress.done + progress.failed;
  const int left = static_cast<int>(total) - finished;
  log_info("sweep", "{} {}/{} {} in {:.1f} s:{}{}", ok ? "done" : "FAILED", finished, total, p.name(), outcome.wall_s,
           line,
           left > 0 ? fmt::format("; ETA {}", format_duration(progress.ran_seconds / progress.ran * left))
                    : std::string());
  if (!ok) {
    log_warn("sweep", "point {} exited with {}; the end of {}:", p.name(), outcome.exit_code,
             (pdir / "launch.log").string());
    for (const auto& l : sweep::tail_lines(pdir / "launch.log", 12)) log_warn("sweep", "  {}", l);
  }
}

/// Runs every point not done yet, one launch each. Returns the signal that
/// interrupted a point, or 0.
int run_points(const SweepArgs& args, const sweep::SweepRecord& record, const fs::path& dir, SweepProgress& progress) {
  const auto& points = record.points;
  for (const auto& p : points) {
    const fs::path pdir = dir / "points" / p.name();
    if (sweep::read_state(pdir) == "done") {
      ++progress.done;
      continue;
    }
    fs::remove_all(pdir);  // failed or interrupted: run it again from the start
    fs::create_directories(pdir);
    std::vector<std::string> argv{self_executable(), "launch", record.recipe, "--run-dir", pdir.string()};
    argv.insert(argv.end(), args.overrides.begin(), args.overrides.end());
    const auto mine = p.overrides(record.base_seed);
    argv.insert(argv.end(), mine.begin(), mine.end());
    log_info("sweep", "point {}/{}: {}", p.index + 1, points.size(), p.label());
    const auto outcome = sweep::run_child(argv, pdir / "launch.log");
    if (outcome.signal != 0) {
      log_warn("sweep", "interrupted during point {} ({}); rerun the same command to continue from it", p.index + 1,
               p.name());
      return outcome.signal;
    }
    const bool ok = outcome.exit_code == 0;
    sweep::write_status(pdir, ok ? "done" : "failed", outcome.exit_code, outcome.wall_s);
    ++progress.ran;
    progress.ran_seconds += outcome.wall_s;
    ok ? ++progress.done : ++progress.failed;
    report_point(p, pdir, outcome, ok, progress, points.size());
  }
  return 0;
}

/// The results table, and the report once a point is done.
void write_outputs(const SweepArgs& args, const sweep::SweepRecord& record, const fs::path& dir,
                   const SweepProgress& progress) {
  if (!args.no_probe && !fs::exists(dir / "network.json")) probe_network(dir);
  sweep::write_sweep_results(dir, record);
  log_info("sweep", "{} of {} points done{}; results {}", progress.done, record.points.size(),
           progress.failed ? fmt::format(", {} failed (rerun to retry them)", progress.failed) : std::string(),
           (dir / "results.csv").string());
  if (progress.done == 0) return;
  sweep::ReportOptions report;
  report.networks.push_back({"100 Gb/s, NCCL-like: alpha 10 us, 12.5 GB/s", 10e-6, 1.0 / 12.5e9});
  try {
    log_info("sweep", "report {}", sweep::write_report(dir, report).string());
  } catch (const std::exception& e) {
    log_warn("sweep", "no report: {}", e.what());
  }
}

int run_sweep(const SweepArgs& args) {
  const auto base = load_recipe(args.recipe, args.overrides);
  if (!base.sweep) throw BadInput(fmt::format("{}: no sweep: block; add one (see docs/sweep.md) or use tandem launch", args.recipe));
  const auto spec = sweep::parse_sweep(base.sweep, args.recipe);
  const auto points = sweep::expand(spec);
  const auto trainer = trainer_options_from(base.config["trainer"]);
  validate_points(args.recipe, args.overrides, points, trainer.seed);

  const fs::path dir = args.dir.empty() ? fs::path("sweeps") / base.name : fs::path(args.dir);
  const sweep::SweepRecord record = make_record(args, base, trainer, points);
  log_info("sweep", "{} points ({} combinations x {} repeats) in {}", points.size(), points.size() / spec.repeats,
           spec.repeats, dir.string());
  if (args.dry_run) {
    for (const auto& p : points) log_info("sweep", "  {}", p.name());
    return kExitOk;
  }
  prepare_dir(dir, record, args.fresh);
  setenv("TANDEM_SWEEP", dir.c_str(), 1);
  SweepProgress progress;
  if (const int signal = run_points(args, record, dir, progress)) return 128 + signal;
  write_outputs(args, record, dir, progress);
  return progress.failed ? kExitFailure : kExitOk;
}

}  // namespace

void add_sweep_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand("sweep", "Run a recipe's sweep: grid, one launch per point; rerun to resume.");
  cmd->add_option("recipe", args->recipe, "Recipe file with a sweep: block")->required();
  cmd->add_option("overrides", args->overrides, "Overrides applied to every point, as key.path=value");
  cmd->add_option("--dir", args->dir, "Sweep directory (default sweeps/<recipe name>); rerunning continues it");
  cmd->add_flag("--fresh", args->fresh, "Discard the finished points in the sweep directory and start again");
  cmd->add_flag("--dry-run", args->dry_run, "Validate every point and list them; run nothing");
  cmd->add_flag("--no-probe", args->no_probe, "Do not time allreduce between 2 workers for the report's projection");
  cmd->callback([&action, args] { action = [args] { return run_sweep(*args); }; });
}

void add_report_command(CLI::App& app, Action& action) {
  struct Args {
    std::string dir;
    std::string out;
    std::vector<std::string> networks;
    double overlap = 2.0 / 3;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("report", "Draw the scaling report of a sweep (gnuplot) into SWEEP_DIR/report.");
  cmd->add_option("sweep_dir", args->dir, "A directory made by tandem sweep")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out, "Where to write (default SWEEP_DIR/report)");
  cmd->add_option("--network", args->networks,
                  "A network to project to, as NAME:ALPHA_US:GBYTES_PER_S (default: 100Gb/s:10:12.5)");
  cmd->add_option("--overlap", args->overlap, "Fraction of a step's compute that can hide communication")
      ->check(CLI::Range(0.0, 1.0));
  cmd->callback([&action, args] {
    action = [args]() -> int {
      sweep::ReportOptions report;
      report.out_dir = args->out;
      report.overlap = args->overlap;
      if (args->networks.empty()) args->networks.push_back("100 Gb/s NCCL-like:10:12.5");
      for (const auto& text : args->networks) {
        const auto b = text.rfind(':');
        const auto a = b == std::string::npos ? std::string::npos : text.rfind(':', b - 1);
        double alpha_us = 0, gbps = 0;
        try {
          if (a == std::string::npos) throw std::invalid_argument("parts");
          alpha_us = std::stod(text.substr(a + 1, b - a - 1));
          gbps = std::stod(text.substr(b + 1));
        } catch (const std::exception&) {
          throw BadInput(fmt::format("--network: expected NAME:ALPHA_US:GBYTES_PER_S, e.g. 100G:10:12.5, got '{}'", text));
        }
        if (alpha_us < 0 || gbps <= 0) {
          throw BadInput(fmt::format("--network: expected alpha >= 0 and bandwidth > 0, got '{}'", text));
        }
        report.networks.push_back({fmt::format("{}: alpha {:g} us, {:g} GB/s", text.substr(0, a), alpha_us, gbps),
                                   alpha_us * 1e-6, 1.0 / (gbps * 1e9)});
      }
      const auto path = sweep::write_report(args->dir, report);
      log_info("report", "{}", path.string());
      return kExitOk;
    };
  });
}

}  // namespace tandem::cli
