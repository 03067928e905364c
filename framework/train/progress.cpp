#include "framework/train/progress.h"

#include <fmt/format.h>

#include <cmath>

namespace tandem {

std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

namespace {
std::string with_thousands(int64_t v) {
  std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

std::string format_progress(const Progress& p) {
  return fmt::format("epoch {}/{}  step {}/{}  loss {:.4f}  {} samples/s  ETA {}", p.epoch, p.epochs, p.step,
                     p.steps_per_epoch, p.loss, with_thousands(std::llround(p.samples_per_s)),
                     format_duration(p.eta_s));
}

}  // namespace tandem
