#include "data/names/name_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace tandem::data {

LengthStats length_stats(const std::vector<std::string>& names) {
  LengthStats s;
  s.count = static_cast<int64_t>(names.size());
  if (names.empty()) return s;
  double sum = 0, squares = 0;
  for (const auto& n : names) {
    const auto length = static_cast<double>(n.size());
    sum += length;
    squares += length * length;
    s.histogram[std::min<std::size_t>(n.size(), LengthStats::kBins - 1)] += 1;
  }
  const auto count = static_cast<double>(s.count);
  s.mean = sum / count;
  s.sd = std::sqrt(std::max(squares / count - s.mean * s.mean, 0.0));
  return s;
}

SampleStats sample_stats(const std::vector<std::string>& samples, const std::vector<std::string>& training,
                         const std::vector<std::string>& held_out) {
  const std::unordered_set<std::string> train_set(training.begin(), training.end());
  const std::unordered_set<std::string> held_out_set(held_out.begin(), held_out.end());
  SampleStats s;
  s.count = static_cast<int64_t>(samples.size());
  s.sample_lengths = length_stats(samples);
  s.training_lengths = length_stats(training);
  if (samples.empty()) return s;
  int64_t in_training = 0, in_held_out = 0;
  for (const auto& name : samples) {
    if (train_set.count(name)) {
      ++in_training;
    } else if (held_out_set.count(name)) {
      ++in_held_out;
    }
  }
  const auto count = static_cast<double>(s.count);
  s.training = static_cast<double>(in_training) / count;
  s.novel = 1.0 - s.training;
  s.held_out = static_cast<double>(in_held_out) / count;
  s.distinct = static_cast<double>(std::unordered_set<std::string>(samples.begin(), samples.end()).size()) / count;
  return s;
}

std::string format_sample_stats(const SampleStats& s) {
  auto percent = [](double share) { return fmt::format("{:.1f}%", 100.0 * share); };
  std::string out = fmt::format("{} names sampled\n", s.count);
  out += fmt::format("novel (not a training name)      {:>7}\n", percent(s.novel));
  out += fmt::format("equal to a training name         {:>7}\n", percent(s.training));
  out += fmt::format("equal to a held-out name         {:>7}\n", percent(s.held_out));
  out += fmt::format("distinct                         {:>7}\n", percent(s.distinct));
  out += fmt::format("length      sample  training names ({})\n", s.training_lengths.count);
  out += fmt::format("mean      {:>8.2f}  {:>8.2f}\n", s.sample_lengths.mean, s.training_lengths.mean);
  out += fmt::format("sd        {:>8.2f}  {:>8.2f}\n", s.sample_lengths.sd, s.training_lengths.sd);
  auto share = [](const LengthStats& l, int bin) {
    return l.count > 0 ? static_cast<double>(l.histogram[bin]) / static_cast<double>(l.count) : 0.0;
  };
  for (int bin = 0; bin < LengthStats::kBins; ++bin) {
    if (s.sample_lengths.histogram[bin] == 0 && s.training_lengths.histogram[bin] == 0) continue;
    const std::string label = bin == LengthStats::kBins - 1 ? fmt::format("{}+", bin) : fmt::format("{}", bin);
    out += fmt::format("{:>4}      {:>8}  {:>8}\n", label, percent(share(s.sample_lengths, bin)),
                       percent(share(s.training_lengths, bin)));
  }
  return out;
}

}  // namespace tandem::data
