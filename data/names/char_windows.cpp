#include "data/names/char_windows.h"

#include <stdexcept>

#include "data/text/alphabet.h"

namespace tandem::data {
namespace {

/// Where a window sits in s (|s| = len): input[j] = s[offset + j - 1] and
/// target[j] = s[offset + j], pad outside s.
struct WindowPlace {
  int64_t offset;
  bool last_only;  ///< only the last position is scored
};

std::vector<WindowPlace> window_places(int64_t len, int64_t context, WindowMode mode) {
  std::vector<WindowPlace> places;
  if (mode == WindowMode::kEveryPosition) {
    // The window ending at t: its last target is s[t].
    for (int64_t t = 0; t < len; ++t) places.push_back({t - context + 1, true});
  } else {
    // Windows that tile s from its start, right-padded after the stop. Nothing
    // in them tells how long the name is before it ends (left padding would).
    for (int64_t offset = 0; offset < len; offset += context) places.push_back({offset, false});
  }
  return places;
}

}  // namespace

CharWindows::CharWindows(const std::vector<std::string>& names, int64_t context, WindowMode mode) {
  using text::Alphabet;
  std::vector<std::vector<int>> sequences;
  int64_t total = 0;
  for (const auto& n : names) {
    sequences.push_back(Alphabet::encode(n));
    sequences.back().push_back(Alphabet::kStop);
    total += static_cast<int64_t>(window_places(static_cast<int64_t>(sequences.back().size()), context, mode).size());
  }
  inputs_ = torch::full({total, context}, Alphabet::kPad, torch::kInt64);
  targets_ = torch::full({total, context}, Alphabet::kPad, torch::kInt64);
  scored_ = torch::zeros({total, context}, torch::kBool);
  auto in = inputs_.accessor<int64_t, 2>();
  auto out = targets_.accessor<int64_t, 2>();
  auto score = scored_.accessor<bool, 2>();
  int64_t row = 0;
  for (const auto& s : sequences) {
    const auto len = static_cast<int64_t>(s.size());
    for (const auto& place : window_places(len, context, mode)) {
      for (int64_t j = 0; j < context; ++j) {
        const int64_t a = place.offset + j;  // the target's index in s
        if (a - 1 >= 0 && a - 1 < len) in[row][j] = s[a - 1];
        if (a >= 0 && a < len) {
          out[row][j] = s[a];
          score[row][j] = !place.last_only || j == context - 1;
        }
      }
      ++row;
    }
  }
  const auto targets_per_window = (targets_ != Alphabet::kPad).sum(1).to(torch::kFloat32);
  weights_ = total > 0 ? targets_per_window / targets_per_window.mean() : targets_per_window;
}

Batch CharWindows::get(const std::vector<int64_t>& indices) const {
  auto idx = torch::tensor(indices, torch::kInt64);
  Batch b;
  b.size = static_cast<int64_t>(indices.size());
  b.fields["input"] = inputs_.index_select(0, idx);
  b.fields["target"] = targets_.index_select(0, idx);
  b.fields["scored"] = scored_.index_select(0, idx);
  b.fields["weight"] = weights_.index_select(0, idx);
  return b;
}

WindowMode window_mode_from(const std::string& name) {
  if (name == "every_position") return WindowMode::kEveryPosition;
  if (name == "whole_name") return WindowMode::kWholeName;
  throw std::invalid_argument("windows must be every_position or whole_name, got '" + name + "'");
}

}  // namespace tandem::data
