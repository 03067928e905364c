#pragma once
/// Tandem's error types and checks. Exit codes follow from the type: BadInput
/// is the user's mistake (recipe, flags, data) and exits 2; everything else
/// exits 1.
///
/// Two checks, one for each kind of mistake:
///   TANDEM_CHECK(cond, "ddp", "bucket {} launched twice", b);   // Tandem's (or a caller's) bug
///   TANDEM_CHECK_INPUT(cond, "{}: expected a positive number, got {}", where, v);  // the user's
/// The policy on `[area]` tags: an internal error starts with the area that
/// found it ("[ddp] ...", the layer's directory name), so a bug report points
/// at the code; a BadInput message starts with where the mistake is (file:line,
/// key or flag), so the user can fix it, and carries no tag.
#include <fmt/format.h>

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

namespace detail {
/// Throws std::logic_error "[area] message (check failed: condition)".
[[noreturn]] void fail_check(const char* area, const char* condition, const std::string& message);
}  // namespace detail

/// Checks an invariant of Tandem's own: when `cond` is false, throws
/// std::logic_error "[area] message (check failed: cond)", the message
/// formatted by fmt from the remaining arguments.
#define TANDEM_CHECK(cond, area, ...)                                                  \
  do {                                                                                 \
    if (!(cond)) ::tandem::detail::fail_check(area, #cond, fmt::format(__VA_ARGS__)); \
  } while (false)

/// Checks what the user gave: when `cond` is false, throws BadInput with the
/// message formatted by fmt (where, what was expected, what was got).
#define TANDEM_CHECK_INPUT(cond, ...)                                  \
  do {                                                                 \
    if (!(cond)) throw ::tandem::BadInput(fmt::format(__VA_ARGS__));   \
  } while (false)

/// Exit codes shared by every command.
/// kExitPreempted (75, EX_TEMPFAIL): stopped by a pre-emption notice (SIGUSR1)
/// after writing a checkpoint; `tandem launch --resume` continues the run.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitBadInput = 2, kExitPreempted = 75 };

}  // namespace tandem
