#pragma once
/// Tandem's error types. Exit codes follow from the type: BadInput is the
/// user's mistake (recipe, flags, data) and exits 2; everything else exits 1.
#include <stdexcept>
#include <string>
#include <vector>

namespace tandem {

/// A mistake in what the user gave us: a recipe key, a flag, a data file.
class BadInput : public std::runtime_error {
 public:
  explicit BadInput(const std::string& what) : std::runtime_error(what) {}
};

/// Several input problems found in one pass, reported together.
class BadInputList : public BadInput {
 public:
  explicit BadInputList(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// Exit codes shared by every command.
/// kExitPreempted (75, EX_TEMPFAIL): stopped by a pre-emption notice (SIGUSR1)
/// after writing a checkpoint; `tandem launch --resume` continues the run.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitBadInput = 2, kExitPreempted = 75 };

}  // namespace tandem
