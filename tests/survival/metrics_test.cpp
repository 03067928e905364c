// Survival metrics against small examples worked by hand. Every expected
// number below is derived in the comments next to it.
#include <gtest/gtest.h>

#include <cmath>

#include "models/survival/brier.h"
#include "models/survival/concordance.h"
#include "models/survival/kaplan_meier.h"

namespace tandem::survival {
namespace {

// Five subjects; subject 2 is censored at 2 and subject 4 at 4.
const std::vector<double> kT{1, 2, 2, 3, 4};
const std::vector<bool> kE{true, true, false, true, false};

// Curves on the grid {1, 2, 3}: row i is S_i(1), S_i(2), S_i(3).
SurvivalCurves curves() {
  return {{1, 2, 3},
          {0.5, 0.4, 0.3,     //
           0.9, 0.6, 0.5,     //
           0.8, 0.5, 0.4,     //
           0.95, 0.9, 0.7,    //
           0.9, 0.85, 0.8}};  //
}

TEST(SurvivalCurves, StepsAndLinearInterpolation) {
  auto c = curves();
  // Steps ("post"): the value at the last grid time <= t; 1 before the grid.
  EXPECT_DOUBLE_EQ(c.at(0, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(c.at(0, 1.5), 0.5);
  EXPECT_DOUBLE_EQ(c.at(0, 9.0), 0.3);
  // Linear: S_0(1.5) = 0.5 + 0.5 * (0.4 - 0.5) = 0.45; before the grid from
  // S(0) = 1: S_0(0.5) = 1 + 0.5 * (0.5 - 1) = 0.75; flat after the grid.
  c.linear = true;
  EXPECT_DOUBLE_EQ(c.at(0, 1.5), 0.45);
  EXPECT_DOUBLE_EQ(c.at(0, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(c.at(0, 2.0), 0.4);
  EXPECT_DOUBLE_EQ(c.at(0, 9.0), 0.3);
}

TEST(KaplanMeier, HandWorkedExample) {
  KaplanMeier km(kT, kE);
  // t=1: 5 at risk, 1 death -> S = 4/5 = 0.8
  // t=2: 4 at risk (1 leaves at 1), 1 death (the censoring at 2 does not drop) -> 0.8 * 3/4 = 0.6
  // t=3: 2 at risk (subjects 3 and 4), 1 death -> 0.6 * 1/2 = 0.3
  // t=4: censored only -> no drop
  ASSERT_EQ(km.times(), (std::vector<double>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(km.at(0.5), 1.0);
  EXPECT_DOUBLE_EQ(km.at(1), 0.8);
  EXPECT_DOUBLE_EQ(km.at(2.5), 0.6);
  EXPECT_DOUBLE_EQ(km.at(3), 0.3);
  EXPECT_DOUBLE_EQ(km.at(10), 0.3);
  // Left limits: S(1-) = 1, S(3-) = 0.6.
  EXPECT_DOUBLE_EQ(km.before(1), 1.0);
  EXPECT_DOUBLE_EQ(km.before(3), 0.6);
}

TEST(KaplanMeier, CensoringDistributionFlipsTheEvents) {
  // Censorings at 2 and 4. t=2: 4 at risk, 1 censored -> G = 3/4.
  // t=4: 1 at risk, 1 censored -> G = 0.
  auto g = censoring_kaplan_meier(kT, kE);
  EXPECT_DOUBLE_EQ(g.at(1.5), 1.0);
  EXPECT_DOUBLE_EQ(g.at(2), 0.75);
  EXPECT_DOUBLE_EQ(g.before(2), 1.0);
  EXPECT_DOUBLE_EQ(g.at(3), 0.75);
  EXPECT_DOUBLE_EQ(g.at(4), 0.0);
}

TEST(HarrellConcordance, HandWorkedExample) {
  // Comparable pairs (i had the event first; a censoring tied with an event outlives it):
  //   i=0 (T=1): with 1, 2, 3, 4  -> 4 pairs
  //   i=1 (T=2): with 2 (censored at 2), 3, 4 -> 3 pairs
  //   i=3 (T=3): with 4 -> 1 pair             -> 8 pairs in all
  // risk = {5, 3, 4, 1, 2}:
  //   i=0: 5 beats 3, 4, 1, 2 -> 4;  i=1: 3 < 4 (no), 3 > 1, 3 > 2 -> 2;  i=3: 1 < 2 -> 0
  //   C = 6 / 8 = 0.75
  EXPECT_DOUBLE_EQ(harrell_concordance(kT, kE, {5, 3, 4, 1, 2}), 0.75);
  // With risk {5, 3, 3, 1, 2} the pair (1, 2) ties and counts 1/2: C = 6.5 / 8 = 0.8125.
  EXPECT_DOUBLE_EQ(harrell_concordance(kT, kE, {5, 3, 3, 1, 2}), 0.8125);
  // Reversing the risk turns every strict pair around: C = 2 / 8.
  EXPECT_DOUBLE_EQ(harrell_concordance(kT, kE, {-5, -3, -4, -1, -2}), 0.25);
  EXPECT_TRUE(std::isnan(harrell_concordance({1, 2}, {false, false}, {0, 1})));
}

TEST(AntoliniConcordance, HandWorkedExample) {
  // Same 8 comparable pairs; curves compared at the earlier subject's time T_i.
  //   i=0 at t=1: S_0 = 0.5 < 0.9, 0.8, 0.95, 0.9       -> 4 concordant
  //   i=1 at t=2: S_1 = 0.6; 0.5 (no), 0.9 (yes), 0.85 (yes) -> 2
  //   i=3 at t=3: S_3 = 0.7 < 0.8                        -> 1
  //   C_td = 7 / 8 = 0.875
  EXPECT_DOUBLE_EQ(antolini_concordance(kT, kE, curves()), 0.875);
  // Equal curves are all ties, which Antolini's index counts as discordant.
  SurvivalCurves flat{{1, 2, 3}, std::vector<double>(15, 0.5)};
  EXPECT_DOUBLE_EQ(antolini_concordance(kT, kE, flat), 0.0);
  // Linear curves compared at T_i = 2.5 (subject 3 failing at 2.5 instead of 3):
  // S_3(2.5) = 0.9 + 0.5 * (0.7 - 0.9) = 0.8 and S_4(2.5) = 0.85 + 0.5 * (0.8 - 0.85) = 0.825,
  // still concordant; pairs of subjects 0 and 1 are read at grid times, unchanged: 7 / 8.
  auto linear = curves();
  linear.linear = true;
  EXPECT_DOUBLE_EQ(antolini_concordance({1, 2, 2, 2.5, 4}, kE, linear), 0.875);
}

TEST(IpcwScores, BrierAndBinomialLogLikelihoodByHand) {
  // Weights: G(T_i-) = 1 for T = 1, 2; G(3-) = 0.75. G(1) = 1, G(2) = G(3) = 0.75.
  // BS(1): S(1) = {0.5, 0.9, 0.8, 0.95, 0.9}
  //   i=0 died at 1: 0.5^2 / 1 = 0.25; the rest are alive at 1, weight 1/G(1) = 1:
  //   0.1^2 + 0.2^2 + 0.05^2 + 0.1^2 = 0.0625 -> (0.25 + 0.0625) / 5 = 0.0625
  // BS(2): S(2) = {0.4, 0.6, 0.5, 0.9, 0.85}
  //   i=0: 0.16; i=1 died at 2: 0.36 / G(2-) = 0.36; i=2 censored at 2: 0
  //   i=3, i=4 alive: (0.1^2 + 0.15^2) / 0.75 = 0.0325 / 0.75 = 0.0433333
  //   -> 0.5633333 / 5 = 0.1126667
  // BS(3): S(3) = {0.3, 0.5, 0.4, 0.7, 0.8}
  //   i=0: 0.09; i=1: 0.25; i=2: 0; i=3 died at 3: 0.49 / G(3-) = 0.6533333
  //   i=4 alive: 0.2^2 / 0.75 = 0.0533333 -> 1.0466667 / 5 = 0.2093333
  // IBS on {1, 2, 3}, trapezoids: [(0.0625 + 0.1126667)/2 + (0.1126667 + 0.2093333)/2] / 2 = 0.1242917
  // NBLL(2): -[log 0.6 + log 0.4 + (log 0.9 + log 0.85) / 0.75] / 5
  //   = -[-0.5108256 - 0.9162907 - 0.1404807 - 0.2166919] / 5 = 0.3568578
  // NBLL(1): -[log 0.5 + log 0.9 + log 0.8 + log 0.95 + log 0.9] / 5 = 1.1783049 / 5 = 0.2356610
  // NBLL(3): -[log 0.7 + log 0.5 + log 0.3 / 0.75 + log 0.8 / 0.75] / 5
  //   = -[-0.3566749 - 0.6931472 - 1.6052971 - 0.2975247] / 5 = 0.5905288
  // INBLL = [(0.2356610 + 0.3568578)/2 + (0.3568578 + 0.5905288)/2] / 2 = 0.3849763
  const auto s = ipcw_scores(kT, kE, curves(), {1, 2, 3});
  ASSERT_EQ(s.brier.size(), 3u);
  EXPECT_NEAR(s.brier[0], 0.0625, 1e-12);
  EXPECT_NEAR(s.brier[1], 0.1126667, 1e-7);
  EXPECT_NEAR(s.brier[2], 0.2093333, 1e-7);
  EXPECT_NEAR(s.integrated_brier, 0.1242917, 1e-7);
  EXPECT_NEAR(s.nbll[0], 0.2356610, 1e-6);
  EXPECT_NEAR(s.nbll[1], 0.3568578, 1e-6);
  EXPECT_NEAR(s.nbll[2], 0.5905288, 1e-6);
  EXPECT_NEAR(s.integrated_nbll, 0.3849763, 1e-6);
}

TEST(IpcwScores, PerfectPredictionScoresZero) {
  // Without censoring every weight is 1; curves that drop from 1 to 0 exactly
  // at each subject's death have BS = 0 everywhere.
  std::vector<double> t{1, 2, 3};
  std::vector<bool> e{true, true, true};
  SurvivalCurves perfect{{1, 2, 3}, {0, 0, 0, 1, 0, 0, 1, 1, 0}};
  const auto s = ipcw_scores(t, e, perfect, {1, 2, 3});
  for (double b : s.brier) EXPECT_DOUBLE_EQ(b, 0.0);
  EXPECT_NEAR(s.integrated_nbll, 0.0, 1e-6);
}

TEST(EvaluationGrid, SpansTheDurations) {
  EXPECT_EQ(evaluation_grid({4, 2, 10}, 5), (std::vector<double>{2, 4, 6, 8, 10}));
}

}  // namespace
}  // namespace tandem::survival
