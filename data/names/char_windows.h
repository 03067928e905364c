#pragma once
/// Samples for next-character prediction. Each name becomes the sequence
/// s = name + stop, and a sample is a window of C positions placed at an
/// offset o in s:
///   input[j]  = s[o + j - 1]   (pad where the index is outside s)
///   target[j] = s[o + j]       (pad where the index is outside s)
/// so the model reads s up to s[o+j-1] and predicts s[o+j] at every position.
/// Which windows there are, and which of their positions are scored as a
/// language model (field "scored"), is the mode:
///   kEveryPosition  one window per symbol s[t], ending at it (o = t - C + 1),
///                   pad-filled before the name; only its last position is
///                   scored, where it reads the C - 1 symbols before s[t];
///   kWholeName      windows from the name's start (o = 0, C, 2C, ...),
///                   right-padded after the stop; every non-pad target is
///                   scored, each read with the name's whole beginning (a name
///                   of C characters or more: from the window's start).
/// Either way every symbol of s is scored exactly once.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "framework/train/dataset.h"

namespace tandem::data {

enum class WindowMode { kEveryPosition, kWholeName };

class CharWindows : public Dataset {
 public:
  CharWindows(const std::vector<std::string>& names, int64_t context,
              WindowMode mode = WindowMode::kEveryPosition);
  int64_t size() const override { return inputs_.size(0); }
  /// Fields "input" and "target" (int64 [batch, context]), "scored" (bool
  /// [batch, context]: the positions whose prediction counts in the nll) and
  /// "weight" (float [batch]: the window's non-pad targets over the mean per
  /// window of this data set, so that a per-window mean loss times the weight,
  /// averaged over windows, weighs every character alike).
  Batch get(const std::vector<int64_t>& indices) const override;

  const torch::Tensor& inputs() const { return inputs_; }
  const torch::Tensor& targets() const { return targets_; }
  const torch::Tensor& scored() const { return scored_; }
  const torch::Tensor& weights() const { return weights_; }

 private:
  torch::Tensor inputs_, targets_, scored_, weights_;
};

/// "every_position" or "whole_name" (as a recipe writes it) to the mode; anything
/// else is std::invalid_argument.
WindowMode window_mode_from(const std::string& name);

}  // namespace tandem::data
