#include "framework/core/error.h"

namespace tandem {
namespace {
std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}
}  // namespace

namespace detail {
void fail_check(const char* area, const char* condition, const std::string& message) {
  throw std::logic_error(fmt::format("[{}] {} (check failed: {})", area, message, condition));
}
}  // namespace detail

BadInputList::BadInputList(std::vector<std::string> problems)
    : BadInput(join_lines(problems)), problems_(std::move(problems)) {}

}  // namespace tandem
