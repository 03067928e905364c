// `tandem project`: plan a data-parallel job without running it. From a model
// size, step times and a network (presets or ALPHA_US:GBYTES_PER_S) it prints
// the projected efficiency and throughput at 1 to 1024 workers and draws them;
// `--from RUN_DIR` reads the step time, gradient bytes and buckets of a run.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "sweep/plan.h"
#include "sweep/results.h"
#include "sweep/validation.h"
#include "tools/commands.h"

namespace tandem::cli {
namespace fs = std::filesystem;
namespace {

struct ProjectArgs {
  double grad_mb = 0, params = 0, bucket_mb = 25, straggler = sweep::kStragglerScale;
  std::vector<double> step_ms, batch;
  std::string from, intra = "nvlink", inter = "ib400", out;
  int gpus_per_node = 8, nics_per_node = 8, max_workers = 1024;
  bool validate = false;
};

void require_positive(const char* flag, double v) {
  if (!(v > 0) || !std::isfinite(v)) throw BadInput(fmt::format("{}: expected a number > 0, got {:g}", flag, v));
}

/// Step times and sizes from a finished run's metrics.jsonl.
void read_run(const ProjectArgs& args, sweep::Plan& plan) {
  if (!fs::exists(fs::path(args.from) / "metrics.jsonl")) {
    throw BadInput(fmt::format("--from: expected a run directory with metrics.jsonl, got '{}'", args.from));
  }
  const auto run = sweep::summarize_run(args.from);
  if (run.steps <= 0) throw BadInput(fmt::format("--from: '{}' logged no training step", args.from));
  if (run.workers > 1) {
    log_warn("project", "{} ran {} workers: its step time includes their communication", args.from, run.workers);
  }
  plan.points.push_back({static_cast<double>(run.batch_size), run.step_s()});
  if (plan.step.bytes <= 0 && run.bytes_per_step <= 0) {
    throw BadInput(fmt::format("--from: '{}' all-reduced no gradients (one worker?); add --grad-mb or --params", args.from));
  }
  if (plan.step.bytes <= 0) plan.step.bytes = run.bytes_per_step;
  if (run.buckets > 0 && run.bytes_per_step > 0) {  // the run's own buckets
    plan.step.bucket_bytes = run.bytes_per_step / run.buckets;
  }
}

sweep::Plan make_plan(const ProjectArgs& args) {
  sweep::Plan plan;
  require_positive("--bucket-mb", args.bucket_mb);
  plan.step.bucket_bytes = args.bucket_mb * 1e6;
  if (args.grad_mb > 0 && args.params > 0) throw BadInput("--grad-mb and --params: expected one of them, got both");
  if (args.grad_mb != 0) require_positive("--grad-mb", args.grad_mb);
  if (args.params != 0) require_positive("--params", args.params);
  plan.step.bytes = args.grad_mb > 0 ? args.grad_mb * 1e6 : 4 * args.params;  // fp32 gradients
  if (args.straggler < 0) throw BadInput(fmt::format("--straggler: expected a number >= 0, got {:g}", args.straggler));
  plan.step.straggler = args.straggler;
  if (!args.from.empty()) {
    read_run(args, plan);
  } else {
    if (args.step_ms.empty()) throw BadInput("--step-ms: expected one step time per batch (or --from RUN_DIR), got none");
    if (args.batch.size() != args.step_ms.size()) {
      throw BadInput(fmt::format("--batch: expected as many values as --step-ms ({}), got {}", args.step_ms.size(),
                                 args.batch.size()));
    }
    for (size_t k = 0; k < args.batch.size(); ++k) {
      require_positive("--step-ms", args.step_ms[k]);
      require_positive("--batch", args.batch[k]);
      plan.points.push_back({args.batch[k], args.step_ms[k] / 1000});
    }
  }
  if (plan.step.bytes <= 0) throw BadInput("--grad-mb or --params: expected the model's gradient size, got neither");
  if (args.gpus_per_node < 1) throw BadInput(fmt::format("--gpus-per-node: expected >= 1, got {}", args.gpus_per_node));
  if (args.nics_per_node < 1) throw BadInput(fmt::format("--nics-per-node: expected >= 1, got {}", args.nics_per_node));
  if (args.max_workers < 1) throw BadInput(fmt::format("--max-workers: expected >= 1, got {}", args.max_workers));
  auto nic = sweep::parse_link("--inter", args.inter);
  const auto intra = sweep::parse_link("--intra", args.intra);
  nic.beta_s_per_byte /= args.nics_per_node;
  nic.name = fmt::format("{} x {}", args.nics_per_node, nic.name);
  plan.cluster = sweep::Cluster{"", intra, nic, args.gpus_per_node, sweep::AllreduceAlgorithm::kHierarchical};
  plan.max_workers = args.max_workers;
  return plan;
}

int run_project(const ProjectArgs& args) {
  if (args.validate) {
    fmt::print("{}", sweep::validation_table(sweep::published_rows()));
    return kExitOk;
  }
  const auto plan = make_plan(args);
  fmt::print("{}", sweep::plan_report(plan));
  if (!args.out.empty()) {
    const auto png = sweep::plan_picture(plan, args.out, "gnuplot");
    if (png.empty()) {
      log_warn("project", "gnuplot did not draw the picture; its script and data are in {}", args.out);
    } else {
      log_info("project", "picture {}", png.string());
    }
  }
  return kExitOk;
}

}  // namespace

void add_project_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ProjectArgs>();
  auto* cmd = app.add_subcommand("project", "Project data-parallel scaling to 1-1024 workers without running anything.");
  cmd->add_option("--grad-mb", a->grad_mb, "Gradient megabytes all-reduced per step");
  cmd->add_option("--params", a->params, "Parameter count (fp32 gradients: 4 bytes each), instead of --grad-mb");
  cmd->add_option("--step-ms", a->step_ms, "Compute time of one step on one worker, ms (one per --batch)");
  cmd->add_option("--batch", a->batch, "Batch per worker of each --step-ms");
  cmd->add_option("--from", a->from, "A finished run directory: its step time, batch, gradient bytes and buckets");
  cmd->add_option("--intra", a->intra, "Link within a node: preset or ALPHA_US:GBYTES_PER_S (default nvlink)\n" +
                                           sweep::link_presets());
  cmd->add_option("--inter", a->inter, "One NIC between nodes: preset or ALPHA_US:GBYTES_PER_S (default ib400)");
  cmd->add_option("--gpus-per-node", a->gpus_per_node, "Workers per node (default 8)");
  cmd->add_option("--nics-per-node", a->nics_per_node, "NICs per node, sharing the traffic (default 8)");
  cmd->add_option("--bucket-mb", a->bucket_mb, "Bucket cap, MB (default 25, as ddp.bucket_cap_mb)");
  cmd->add_option("--straggler", a->straggler, "Spread of one worker's step, fraction (default: the validated 0.018)");
  cmd->add_option("--max-workers", a->max_workers, "Project up to this many workers (default 1024)");
  cmd->add_option("--out", a->out, "Write projection.dat, projection.gp and projection.png here");
  cmd->add_flag("--validate", a->validate, "Print the model against published multi-GPU results, and exit");
  cmd->callback([&action, a] { action = [a] { return run_project(*a); }; });
}

}  // namespace tandem::cli
