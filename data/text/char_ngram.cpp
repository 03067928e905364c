#include "data/text/char_ngram.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "data/text/alphabet.h"

namespace tandem::text {
namespace {

constexpr char kPadChar = static_cast<char>(Alphabet::kPad);

/// The name's symbols and stop, one char each, after `history` pad symbols.
std::string padded_symbols(const std::string& name, int history) {
  std::string s(static_cast<std::size_t>(history), kPadChar);
  for (int i : Alphabet::encode(name)) s += static_cast<char>(i);
  s += static_cast<char>(Alphabet::kStop);
  return s;
}

double estimated_discount(const std::unordered_map<std::string, double>& grams) {
  double n1 = 0, n2 = 0;
  for (const auto& kv : grams) {
    if (kv.second == 1.0) ++n1;
    if (kv.second == 2.0) ++n2;
  }
  if (n1 + n2 == 0) return 0.5;
  return std::clamp(n1 / (n1 + 2 * n2), 0.1, 1.0);
}

}  // namespace

CharNgram::CharNgram(const std::vector<std::string>& names, const CharNgramOptions& options)
    : order_(options.order) {
  if (order_ < 1) throw std::invalid_argument(fmt::format("n-gram order must be >= 1, got {}", order_));
  if (options.discount < 0 || options.discount > 1) {
    throw std::invalid_argument(fmt::format("n-gram discount must be in (0, 1], or 0 to estimate it, got {}",
                                            options.discount));
  }
  const int n = order_;
  // Raw counts of every k-gram ending at each predicted position.
  std::vector<std::unordered_map<std::string, double>> raw(static_cast<std::size_t>(n));
  for (const auto& name : names) {
    const std::string s = padded_symbols(name, n - 1);
    for (std::size_t pos = static_cast<std::size_t>(n - 1); pos < s.size(); ++pos) {
      for (int k = 1; k <= n; ++k) raw[k - 1][s.substr(pos + 1 - k, k)] += 1.0;
    }
  }
  levels_.resize(static_cast<std::size_t>(n));
  levels_[n - 1].grams = raw[n - 1];
  for (int k = n - 1; k >= 1; --k) {
    // Continuation counts: each distinct (k+1)-gram v·g adds one to g.
    auto& grams = levels_[k - 1].grams;
    for (const auto& kv : raw[k]) {
      const std::string g = kv.first.substr(1);
      if (g[0] != kPadChar) grams[g] += 1.0;
    }
    for (const auto& kv : raw[k - 1]) {
      if (kv.first[0] == kPadChar) grams[kv.first] = kv.second;
    }
  }
  discounts_.resize(static_cast<std::size_t>(n));
  for (int k = 1; k <= n; ++k) {
    Level& level = levels_[k - 1];
    for (const auto& kv : level.grams) {
      Context& c = level.contexts[kv.first.substr(0, static_cast<std::size_t>(k - 1))];
      c.total += kv.second;
      c.types += 1;
    }
    discounts_[k - 1] = options.discount > 0 ? options.discount : estimated_discount(level.grams);
  }
}

double CharNgram::probability_after(const std::string& padded_history, int next) const {
  double p = 1.0 / kPredictable;
  const std::string symbol(1, static_cast<char>(next));
  for (int k = 1; k <= order_; ++k) {
    const Level& level = levels_[k - 1];
    const std::string h = padded_history.substr(padded_history.size() - static_cast<std::size_t>(k - 1));
    const auto c = level.contexts.find(h);
    if (c == level.contexts.end()) continue;  // never seen: the lower order's estimate stands
    const auto g = level.grams.find(h + symbol);
    const double a = g == level.grams.end() ? 0.0 : g->second;
    const double d = discounts_[k - 1];
    p = (std::max(a - d, 0.0) + d * c->second.types * p) / c->second.total;
  }
  return p;
}

double CharNgram::probability(const std::vector<int>& prefix, int next) const {
  if (next < 1 || next >= Alphabet::kSize) {
    throw std::invalid_argument(fmt::format("symbol {} cannot follow a name's characters (pad or out of range)", next));
  }
  std::string history(static_cast<std::size_t>(order_ - 1), kPadChar);
  for (int i : prefix) history += static_cast<char>(i);
  return probability_after(history, next);
}

CharNgram::Score CharNgram::score(const std::vector<std::string>& names) const {
  Score out;
  const auto history = static_cast<std::size_t>(order_ - 1);
  for (const auto& name : names) {
    const std::string s = padded_symbols(name, order_ - 1);
    for (std::size_t pos = history; pos < s.size(); ++pos) {
      out.nats -= std::log(probability_after(s.substr(pos - history, history), s[pos]));
      ++out.symbols;
    }
  }
  return out;
}

}  // namespace tandem::text
