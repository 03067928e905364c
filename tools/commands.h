#pragma once
/// Internal to tools/: each subcommand adds itself to the app and sets the
/// action to run when it is chosen.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace tandem::cli {

using Action = std::function<int()>;

void add_launch_command(CLI::App& app, Action& action);
void add_train_command(CLI::App& app, Action& action);
void add_validate_command(CLI::App& app, Action& action);
void add_export_command(CLI::App& app, Action& action);
void add_sample_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_predict_command(CLI::App& app, Action& action);
void add_sweep_command(CLI::App& app, Action& action);
void add_report_command(CLI::App& app, Action& action);
void add_project_command(CLI::App& app, Action& action);
void add_probe_command(CLI::App& app, Action& action);
void add_ngram_command(CLI::App& app, Action& action);

/// This executable's path, for starting workers of the same program.
std::string self_executable();

}  // namespace tandem::cli
