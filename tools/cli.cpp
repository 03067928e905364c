#include "tools/cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/version.h"
#include "launch/error_file.h"
#include "tools/commands.h"

namespace tandem::cli {

std::string self_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

int main(int argc, char** argv) {
  CLI::App app{"Tandem: distributed training on LibTorch, driven by YAML recipes."};
  app.set_version_flag("--version", std::string("tandem ") + TANDEM_VERSION);
  app.require_subcommand(1);
  Action action;
  add_launch_command(app, action);
  add_train_command(app, action);
  add_validate_command(app, action);
  add_export_command(app, action);
  add_sample_command(app, action);
  add_eval_command(app, action);
  add_predict_command(app, action);
  add_sweep_command(app, action);
  add_report_command(app, action);
  add_project_command(app, action);
  add_probe_command(app, action);
  add_ngram_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  try {
    return action();
  } catch (const BadInputList& e) {
    launch::record_uncaught_error(e, kExitBadInput);  // for the launcher's report (TORCHELASTIC_ERROR_FILE)
    for (const auto& p : e.problems()) std::fprintf(stderr, "%s\n", p.c_str());
    std::fprintf(stderr, "error: %zu problem%s found; nothing was started\n", e.problems().size(),
                 e.problems().size() == 1 ? "" : "s");
    return kExitBadInput;
  } catch (const BadInput& e) {
    launch::record_uncaught_error(e, kExitBadInput);
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    launch::record_uncaught_error(e, kExitFailure);
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
}

}  // namespace tandem::cli
