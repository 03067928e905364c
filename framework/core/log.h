#pragma once
/// Logging. Every line carries an [area] tag. `Log` prints on every rank (for
/// warnings and per-rank facts); `RankZero` is the one gate for what only rank 0
/// prints, so no caller writes `if (rank == 0)`.
#include <fmt/format.h>

#include <string>

namespace tandem {

/// Writes one line "[area] message" to stderr (warnings) or stdout (info).
void log_line(const char* area, const std::string& message, bool warning = false);

template <typename... Args>
void log_info(const char* area, fmt::format_string<Args...> f, Args&&... args) {
  log_line(area, fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
void log_warn(const char* area, fmt::format_string<Args...> f, Args&&... args) {
  log_line(area, fmt::format(f, std::forward<Args>(args)...), /*warning=*/true);
}

/// Output that only rank 0 produces.
class RankZero {
 public:
  explicit RankZero(int rank) : active_(rank == 0) {}
  bool active() const { return active_; }

  template <typename... Args>
  void info(const char* area, fmt::format_string<Args...> f, Args&&... args) const {
    if (active_) log_line(area, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  bool active_;
};

}  // namespace tandem
