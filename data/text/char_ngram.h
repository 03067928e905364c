#pragma once
/// The character n-gram language model that text models are judged against:
/// interpolated Kneser–Ney (Kneser & Ney 1995; the interpolated form of Chen &
/// Goodman 1999, "An empirical study of smoothing techniques for language
/// modeling", §3.5), over the pet-name Alphabet.
///
/// A name is scored as the char_lstm scores it: every character and then the
/// stop symbol, each predicted once from the characters before it, with pad
/// symbols before the name's start. The model reads the last order-1 symbols.
/// With h the history, h' h without its oldest symbol and D_k the discount of
/// order k:
///   P_k(w | h) = (max(a(hw) - D_k, 0) + D_k · N1+(h·) · P_{k-1}(w | h')) / Σ_v a(hv)
///   P_0(w)     = 1/30 (the 29 characters and stop; pad is never predicted)
/// and P_k(w | h) = P_{k-1}(w | h') for a history never seen. a() is the raw
/// count at the highest order and for n-grams that begin with pad (they have no
/// real left context), otherwise the continuation count N1+(·g), the number of
/// distinct symbols seen before g. N1+(h·) is the number of distinct w with
/// a(hw) > 0. Every P_k sums to 1 over the 30 symbols.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace tandem::text {

struct CharNgramOptions {
  /// n: the model reads the last n-1 symbols (1 is a unigram).
  int order = 5;
  /// > 0: this discount at every order (at most 1). 0: each order's estimated
  /// from its counts of counts, D = n1 / (n1 + 2 n2) (Ney, Essen & Kneser 1994),
  /// kept within [0.1, 1].
  double discount = 0.0;
};

class CharNgram {
 public:
  /// Symbols a name's next position can hold: the 29 characters and stop.
  static constexpr int kPredictable = 30;

  /// Fits the model to `names` (characters in the Alphabet; std::invalid_argument otherwise).
  CharNgram(const std::vector<std::string>& names, const CharNgramOptions& options);

  /// P(next | the name so far). `prefix`: the name's symbols so far (Alphabet
  /// indices, any length); `next`: a character's index or Alphabet::kStop.
  double probability(const std::vector<int>& prefix, int next) const;

  struct Score {
    double nats = 0.0;    ///< sum of -log P over every predicted symbol
    int64_t symbols = 0;  ///< characters plus one stop per name
    double nats_per_char() const { return symbols > 0 ? nats / static_cast<double>(symbols) : 0.0; }
  };
  /// The negative log-likelihood of `names`, every character and stop scored once.
  Score score(const std::vector<std::string>& names) const;

  int order() const { return order_; }
  /// The discount of each order, [0] for unigrams.
  const std::vector<double>& discounts() const { return discounts_; }

 private:
  struct Context {
    double total = 0.0;  ///< Σ_v a(hv)
    int types = 0;       ///< N1+(h·)
  };
  struct Level {
    std::unordered_map<std::string, double> grams;  ///< a(g), g = history + symbol, one char per symbol
    std::unordered_map<std::string, Context> contexts;
  };
  double probability_after(const std::string& padded_history, int next) const;

  int order_;
  std::vector<Level> levels_;  ///< [k-1]: order k
  std::vector<double> discounts_;
};

}  // namespace tandem::text
