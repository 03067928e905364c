#pragma once
/// The one-line progress report rank 0 prints while training.
#include <cstdint>
#include <string>

namespace tandem {

struct Progress {
  int64_t epoch = 0;  ///< 1-based for display
  int64_t epochs = 0;
  int64_t step = 0;   ///< step within the epoch, 1-based
  int64_t steps_per_epoch = 0;
  double loss = 0.0;
  double samples_per_s = 0.0;
  double eta_s = 0.0;
};

/// "epoch 2/5  step 120/342  loss 2.1345  4,512 samples/s  ETA 1:02"
std::string format_progress(const Progress& p);

/// "1:02", "1:05:09"
std::string format_duration(double seconds);

}  // namespace tandem
