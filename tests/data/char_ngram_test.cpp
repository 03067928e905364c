// The n-gram baseline against hand-computed probabilities, and as a proper distribution.
#include "data/text/char_ngram.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/text/alphabet.h"

namespace tandem::text {
namespace {

constexpr int kA = 2, kB = 3, kZ = 27, kStop = Alphabet::kStop;

CharNgramOptions order(int n, double discount) {
  CharNgramOptions o;
  o.order = n;
  o.discount = discount;
  return o;
}

// The corpus {"ab", "a"}: predicted symbols a b stop | a stop (5 in all).
TEST(CharNgram, UnigramMatchesHandComputedProbabilities) {
  const CharNgram m({"ab", "a"}, order(1, 0.5));
  // Raw counts a 2, b 1, stop 2: total 5, 3 types; P(w) = (max(c - 0.5, 0) + 0.5 * 3 * 1/30) / 5.
  EXPECT_NEAR(m.probability({}, kA), 0.31, 1e-15);   // (1.5 + 0.05) / 5
  EXPECT_NEAR(m.probability({}, kB), 0.11, 1e-15);   // (0.5 + 0.05) / 5
  EXPECT_NEAR(m.probability({}, kStop), 0.31, 1e-15);
  EXPECT_NEAR(m.probability({}, kZ), 0.01, 1e-15);   // unseen: 0.05 / 5
  EXPECT_NEAR(m.probability({kA, kB}, kA), 0.31, 1e-15) << "a unigram reads no history";
}

TEST(CharNgram, BigramMatchesHandComputedKneserNey) {
  const CharNgram m({"ab", "a"}, order(2, 0.5));
  // Bigram counts: pad→a 2, a→b 1, a→stop 1, b→stop 1.
  // Unigram continuation counts (distinct predecessors): a {pad} 1, b {a} 1, stop {a, b} 2; total 4, 3 types:
  //   P1(a) = P1(b) = (0.5 + 0.5 * 3 / 30) / 4 = 0.1375, P1(stop) = (1.5 + 0.05) / 4 = 0.3875, P1(z) = 0.0125.
  // History 'a' was seen (2 counts, 2 types), 'az' was not: (0 + 0.5 * 2 * P1(z)) / 2.
  EXPECT_NEAR(m.probability({kA, kA}, kZ), 0.00625, 1e-15);
  // P2(a | pad) = (2 - 0.5 + 0.5 * 1 * P1(a)) / 2
  EXPECT_NEAR(m.probability({}, kA), (1.5 + 0.5 * 0.1375) / 2, 1e-15);
  // P2(b | a) = (1 - 0.5 + 0.5 * 2 * P1(b)) / 2
  EXPECT_NEAR(m.probability({kA}, kB), (0.5 + 0.1375) / 2, 1e-15);
  // P2(stop | b) = (1 - 0.5 + 0.5 * 1 * P1(stop)) / 1
  EXPECT_NEAR(m.probability({kA, kB}, kStop), 0.5 + 0.5 * 0.3875, 1e-15);
  // An unseen history ('z') falls back to the unigram.
  EXPECT_NEAR(m.probability({kZ}, kStop), 0.3875, 1e-15);

  // score: every character and the stop, once each.
  const auto s = m.score({"ab"});
  EXPECT_EQ(s.symbols, 3);
  const double expected = -std::log((1.5 + 0.5 * 0.1375) / 2) - std::log((0.5 + 0.1375) / 2) -
                          std::log(0.5 + 0.5 * 0.3875);
  EXPECT_NEAR(s.nats, expected, 1e-12);
  EXPECT_NEAR(s.nats_per_char(), expected / 3, 1e-12);
}

TEST(CharNgram, ContinuationCountsAreUsedBelowTheTopOrder) {
  // In {"aaaa"}, 'a' is seen 4 times but after 2 distinct symbols {pad, a}:
  // the unigram below the top order counts 2.
  const CharNgram m({"aaaa"}, order(2, 0.5));
  // Unigram: a {pad, a} 2, stop {a} 1: total 3, 2 types; P1(a) = (1.5 + 0.5 * 2 / 30) / 3.
  EXPECT_NEAR(m.probability({kZ}, kA), (1.5 + 1.0 / 30) / 3, 1e-15);
}

TEST(CharNgram, IsAProperDistributionAfterEveryHistory) {
  const std::vector<std::string> names = {"bella", "bello", "max", "maxi", "molly", "mr. whiskers", "jean-luc",
                                          "rex", "roxy", "ruby", "a", "bo"};
  for (int n : {1, 2, 3, 4, 6}) {
    for (double d : {0.0, 0.3, 1.0}) {
      const CharNgram m(names, order(n, d));
      for (const std::string prefix : {"", "b", "bel", "mr. w", "zzq", "ma", "jean-", "rox"}) {
        double total = 0;
        for (int next = 1; next < Alphabet::kSize; ++next) {
          const double p = m.probability(Alphabet::encode(prefix), next);
          EXPECT_GT(p, 0.0) << "order " << n << " '" << prefix << "' -> " << next;
          total += p;
        }
        EXPECT_NEAR(total, 1.0, 1e-12) << "order " << n << ", discount " << d << ", after '" << prefix << "'";
      }
    }
  }
  EXPECT_THROW(CharNgram(names, order(3, 0)).probability({}, Alphabet::kPad), std::invalid_argument);
}

TEST(CharNgram, EstimatesDiscountsAndRejectsBadOptions) {
  const CharNgram m({"ab", "a", "abc", "b"}, order(3, 0.0));
  ASSERT_EQ(m.discounts().size(), 3u);
  for (double d : m.discounts()) {
    EXPECT_GE(d, 0.1);
    EXPECT_LE(d, 1.0);
  }
  EXPECT_THROW(CharNgram({"ab"}, order(0, 0.5)), std::invalid_argument);
  EXPECT_THROW(CharNgram({"ab"}, order(2, 1.5)), std::invalid_argument);
  EXPECT_THROW(CharNgram({"a2"}, order(2, 0.5)), std::invalid_argument);
}

TEST(CharNgram, AHigherOrderFitsItsTrainingNamesBetter) {
  const std::vector<std::string> names = {"bella", "bello", "max", "maxi", "molly", "rex", "roxy", "ruby"};
  double previous = 1e9;
  for (int n = 1; n <= 4; ++n) {
    const double nll = CharNgram(names, order(n, 0.0)).score(names).nats_per_char();
    EXPECT_LT(nll, previous) << "order " << n;
    previous = nll;
  }
  EXPECT_LT(previous, std::log(30.0));
}

}  // namespace
}  // namespace tandem::text
