#pragma once
/// How generated names compare with the names a model was trained on: the
/// share that is new, the share that repeats a training name, and the length
/// distribution against the training names'. Used by `tandem sample --stats`.
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::data {

struct LengthStats {
  /// Bins of the histogram: lengths 0 .. kBins-2, and kBins-1 or longer.
  static constexpr int kBins = 17;
  int64_t count = 0;
  double mean = 0.0;
  double sd = 0.0;  ///< population standard deviation
  std::vector<int64_t> histogram = std::vector<int64_t>(kBins, 0);
};

LengthStats length_stats(const std::vector<std::string>& names);

struct SampleStats {
  int64_t count = 0;
  double novel = 0.0;     ///< share that is not a training name
  double training = 0.0;  ///< share equal to a training name (1 - novel)
  double held_out = 0.0;  ///< share equal to a held-out (validation) name that is not a training name
  double distinct = 0.0;  ///< distinct names / count
  LengthStats sample_lengths, training_lengths;
};

/// Statistics of `samples` against the `training` and `held_out` names.
SampleStats sample_stats(const std::vector<std::string>& samples, const std::vector<std::string>& training,
                         const std::vector<std::string>& held_out);

/// A short report: the shares, then mean, sd and a histogram of lengths for
/// the sample and the training names side by side.
std::string format_sample_stats(const SampleStats& stats);

}  // namespace tandem::data
