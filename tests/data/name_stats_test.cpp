// Sample statistics against hand-counted examples.
#include "data/names/name_stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tandem::data {
namespace {

TEST(NameStats, SharesOfNovelTrainingAndHeldOutNames) {
  const std::vector<std::string> training = {"rex", "bella", "max"};
  const std::vector<std::string> held_out = {"luna", "max"};  // "max" is also a training name
  const std::vector<std::string> samples = {"rex", "rex", "luna", "max", "zed", "bo", "bella", "qq"};
  const SampleStats s = sample_stats(samples, training, held_out);
  EXPECT_EQ(s.count, 8);
  EXPECT_DOUBLE_EQ(s.training, 4.0 / 8);   // rex, rex, max, bella
  EXPECT_DOUBLE_EQ(s.novel, 4.0 / 8);      // luna, zed, bo, qq
  EXPECT_DOUBLE_EQ(s.held_out, 1.0 / 8);   // luna (max counts as a training name)
  EXPECT_DOUBLE_EQ(s.distinct, 7.0 / 8);   // rex twice
}

TEST(NameStats, LengthMeanSdAndHistogram) {
  // Lengths 3, 5, 3, 1 and one of 20 (the last bin holds 16 and longer).
  const LengthStats l = length_stats({"rex", "bella", "max", "q", "abcdefghijklmnopqrst"});
  EXPECT_EQ(l.count, 5);
  EXPECT_DOUBLE_EQ(l.mean, 32.0 / 5);
  const double variance = (9 + 25 + 9 + 1 + 400) / 5.0 - (32.0 / 5) * (32.0 / 5);
  EXPECT_NEAR(l.sd, std::sqrt(variance), 1e-12);
  EXPECT_EQ(l.histogram[1], 1);
  EXPECT_EQ(l.histogram[3], 2);
  EXPECT_EQ(l.histogram[5], 1);
  EXPECT_EQ(l.histogram[LengthStats::kBins - 1], 1);
  EXPECT_EQ(l.histogram[4], 0);
}

TEST(NameStats, ReportListsSharesAndTheLengthsSideBySide) {
  const SampleStats s = sample_stats({"rex", "zed"}, {"rex", "bella"}, {});
  const std::string text = format_sample_stats(s);
  EXPECT_NE(text.find("2 names sampled"), std::string::npos) << text;
  EXPECT_NE(text.find("novel (not a training name)        50.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("equal to a training name           50.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("mean          3.00      4.00"), std::string::npos) << text;
  EXPECT_NE(text.find("   3        100.0%     50.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("   5          0.0%     50.0%"), std::string::npos) << text;
  EXPECT_EQ(text.find("   4 "), std::string::npos) << "empty rows are left out\n" << text;
  EXPECT_EQ(sample_stats({}, {"rex"}, {}).count, 0);
}

}  // namespace
}  // namespace tandem::data
