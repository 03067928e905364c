#include "data/names/char_windows.h"

#include "data/text/alphabet.h"

namespace tandem::data {

CharWindows::CharWindows(const std::vector<std::string>& names, int64_t context) {
  using text::Alphabet;
  int64_t total = 0;
  for (const auto& n : names) total += static_cast<int64_t>(n.size()) + 1;
  inputs_ = torch::full({total, context}, Alphabet::kPad, torch::kInt64);
  targets_ = torch::full({total, context}, Alphabet::kPad, torch::kInt64);
  auto in = inputs_.accessor<int64_t, 2>();
  auto out = targets_.accessor<int64_t, 2>();
  int64_t row = 0;
  for (const auto& name : names) {
    std::vector<int> s = Alphabet::encode(name);
    s.push_back(Alphabet::kStop);
    const auto len = static_cast<int64_t>(s.size());
    for (int64_t t = 0; t < len; ++t, ++row) {
      for (int64_t j = 0; j < context; ++j) {
        const int64_t a = t - context + j;
        if (a >= 0) in[row][j] = s[a];
        if (a + 1 >= 0) out[row][j] = s[a + 1];
      }
    }
  }
}

Batch CharWindows::get(const std::vector<int64_t>& indices) const {
  auto idx = torch::tensor(indices, torch::kInt64);
  Batch b;
  b.size = static_cast<int64_t>(indices.size());
  b.fields["input"] = inputs_.index_select(0, idx);
  b.fields["target"] = targets_.index_select(0, idx);
  return b;
}

}  // namespace tandem::data
