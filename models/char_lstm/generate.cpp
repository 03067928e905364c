// Sampling names from a trained CharLstm, all names of a call in one batch.
// The network runs on the model's device; the draws are made on the CPU with a
// CPU generator seeded by the caller, so a seed gives the same names whether
// the model is on the CPU or a GPU (up to the network's rounding). Each step
// feeds the network the window the training data would have held.
#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "data/text/alphabet.h"
#include "models/char_lstm/char_lstm.h"

namespace tandem::models {

torch::Tensor truncate_logits(const torch::Tensor& logits, int top_k, double top_p) {
  const float minus_inf = -std::numeric_limits<float>::infinity();
  auto out = logits.clone();
  if (top_k > 0 && top_k < out.size(-1)) {
    const auto kth = std::get<0>(out.topk(top_k, -1)).narrow(-1, top_k - 1, 1);  // [n, 1]
    out.masked_fill_(out < kth, minus_inf);
  }
  if (top_p < 1.0) {
    const auto [sorted, order] = out.sort(-1, /*descending=*/true);
    const auto cumulative = sorted.softmax(-1).cumsum(-1);
    // A symbol is dropped when the likelier ones alone already reach p; the likeliest never is.
    auto drop_sorted = (cumulative - sorted.softmax(-1)) >= top_p;
    auto drop = torch::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
    out.masked_fill_(drop, minus_inf);
  }
  return out;
}

std::vector<std::string> CharLstm::generate(const GenerateOptions& o) {
  using text::Alphabet;
  if (o.count <= 0) return {};
  if (!(o.temperature > 0)) throw std::invalid_argument("temperature must be > 0");
  if (o.top_k < 0 || !(o.top_p > 0 && o.top_p <= 1)) throw std::invalid_argument("top_k must be >= 0, top_p in (0, 1]");
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  auto generator = at::detail::createCPUGenerator(o.seed);
  const int64_t n = o.count;
  const auto on_device = torch::TensorOptions().dtype(torch::kInt64).device(head_->weight.device());

  // Each row's symbols so far: the pad that starts a name, then the prefix.
  auto sequence = torch::full({n, 1}, Alphabet::kPad, on_device);
  std::vector<std::string> names(static_cast<std::size_t>(n), o.prefix);
  auto push = [&](const torch::Tensor& next) {  // next: int64 [n]
    sequence = torch::cat({sequence, next.to(sequence.device()).unsqueeze(1)}, 1);
  };
  for (int symbol : Alphabet::encode(o.prefix)) push(torch::full({n}, symbol, on_device));

  std::vector<char> done(static_cast<std::size_t>(n), 0);
  for (int step = 0; step < o.max_length; ++step) {
    // The last position's logits to the CPU: the draw and its generator live there.
    auto out = logits(generation_windows(sequence));
    auto last = out.select(1, out.size(1) - 1).to(torch::kCPU) / o.temperature;  // [n, 31]
    last.select(1, Alphabet::kPad).fill_(-std::numeric_limits<float>::infinity());
    last = truncate_logits(last, o.top_k, o.top_p);
    auto next = torch::multinomial(torch::softmax(last, -1), 1, false, generator).squeeze(1);
    auto acc = next.accessor<int64_t, 1>();
    bool all_done = true;
    for (int64_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      if (acc[i] == Alphabet::kStop) {
        done[i] = 1;
      } else {
        names[i] += Alphabet::symbol(static_cast<int>(acc[i]));
        all_done = false;
      }
    }
    if (all_done) break;
    push(next);
  }
  if (was_training) train();
  return names;
}

torch::Tensor CharLstm::generation_windows(const torch::Tensor& sequence) const {
  const int64_t c = options_.context;
  const int64_t len = sequence.size(1);  // predicting s[len - 1]
  if (options_.whole_name) {
    // data::CharWindows tiles a name into windows of c from its start: s[t] is
    // predicted in the window that starts at input position (t / c) * c.
    const int64_t start = ((len - 1) / c) * c;
    return sequence.narrow(1, start, len - start);
  }
  if (len >= c) return sequence.narrow(1, len - c, c);
  return torch::cat({torch::full({sequence.size(0), c - len}, text::Alphabet::kPad, sequence.options()), sequence}, 1);
}

}  // namespace tandem::models
