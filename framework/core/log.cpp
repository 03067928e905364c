#include "framework/core/log.h"

#include <cstdio>

namespace tandem {

void log_line(const char* area, const std::string& message, bool warning) {
  std::FILE* out = warning ? stderr : stdout;
  std::fprintf(out, "[%s] %s%s\n", area, warning ? "warning: " : "", message.c_str());
  std::fflush(out);
}

}  // namespace tandem
