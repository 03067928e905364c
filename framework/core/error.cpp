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

BadInputList::BadInputList(std::vector<std::string> problems)
    : BadInput(join_lines(problems)), problems_(std::move(problems)) {}

}  // namespace tandem
