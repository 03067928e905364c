#pragma once
/// Training windows for next-character prediction. Each name becomes the
/// sequence s = name + stop; for every position t of s one sample is made:
///   input[j]  = s[t - C + j]      (j = 0..C-1; pad where the index is < 0)
///   target[j] = s[t - C + 1 + j]  (pad where the index is < 0)
/// so input's last symbol is s[t-1] and target's last is s[t]: the model sees
/// the last C characters and predicts the next one at every position.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "framework/train/dataset.h"

namespace tandem::data {

class CharWindows : public Dataset {
 public:
  CharWindows(const std::vector<std::string>& names, int64_t context);
  int64_t size() const override { return inputs_.size(0); }
  /// Fields "input" and "target": int64 [batch, context].
  Batch get(const std::vector<int64_t>& indices) const override;

  const torch::Tensor& inputs() const { return inputs_; }
  const torch::Tensor& targets() const { return targets_; }

 private:
  torch::Tensor inputs_, targets_;
};

}  // namespace tandem::data
