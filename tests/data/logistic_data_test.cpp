#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/logistic/csv_rows.h"
#include "data/logistic/synthetic.h"
#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem::data {
namespace {

SyntheticSpec small_spec() {
  SyntheticSpec s;
  s.rows = 1001;
  s.columns = 5;  // odd: the last normal pair is half used
  s.seed = 3;
  s.coefficients = {1.0, -1.0, 0.5, 0.0, 2.0};
  return s;
}

std::vector<double> block(const LabelledRows& rows, int64_t begin, int64_t end, std::vector<double>* labels) {
  std::vector<double> x(static_cast<size_t>((end - begin) * rows.features()));
  labels->resize(static_cast<size_t>(end - begin));
  rows.fill(begin, end, x.data(), labels->data());
  return x;
}

TEST(Synthetic, ShardsOfAnyWorldTileTheSameTable) {
  SyntheticRows rows(small_spec(), 0, 1001);
  std::vector<double> y_all;
  const auto x_all = block(rows, 0, 1001, &y_all);
  for (int world : {1, 2, 3, 7}) {
    std::vector<double> x, y;
    int64_t expected_begin = 0;
    for (int rank = 0; rank < world; ++rank) {
      const auto [begin, end] = shard_range(1001, rank, world);
      EXPECT_EQ(begin, expected_begin);
      expected_begin = end;
      std::vector<double> ys;
      auto xs = block(rows, begin, end, &ys);
      x.insert(x.end(), xs.begin(), xs.end());
      y.insert(y.end(), ys.begin(), ys.end());
    }
    EXPECT_EQ(expected_begin, 1001);
    EXPECT_EQ(x, x_all) << "world " << world;
    EXPECT_EQ(y, y_all) << "world " << world;
  }
}

TEST(Synthetic, HasStandardNormalFeaturesAndLabelsFromTheCoefficients) {
  auto spec = small_spec();
  spec.rows = 200000;
  SyntheticRows rows(spec, 0, spec.rows);
  std::vector<double> y;
  const auto x = block(rows, 0, spec.rows, &y);
  for (int64_t j = 0; j < 5; ++j) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < spec.rows; ++i) s += x[i * 5 + j], ss += x[i * 5 + j] * x[i * 5 + j];
    const double mean = s / spec.rows, var = ss / spec.rows - mean * mean;
    EXPECT_NEAR(mean, 0.0, 0.01) << j;
    EXPECT_NEAR(var, 1.0, 0.02) << j;
  }
  // The label's empirical rate among rows with a large positive margin is high.
  double pos = 0, count = 0;
  for (int64_t i = 0; i < spec.rows; ++i) {
    double z = 0;
    for (int64_t j = 0; j < 5; ++j) z += x[i * 5 + j] * spec.coefficients[j];
    if (z > 3) pos += y[i], count += 1;
  }
  EXPECT_GT(pos / count, 0.95);
  // Validation rows are further rows of the same table, not a copy of the first ones.
  SyntheticRows val(spec, spec.rows, 10);
  std::vector<double> yv;
  EXPECT_NE(block(val, 0, 10, &yv), std::vector<double>(x.begin(), x.begin() + 50));
}

TEST(Synthetic, BatchesHoldTheSameRows) {
  SyntheticRows rows(small_spec(), 0, 1001);
  auto b = rows.get({7, 3});
  ASSERT_EQ(b.size, 2);
  std::vector<double> y;
  auto x = block(rows, 7, 8, &y);
  for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(b.at("x")[0][j].item<double>(), x[j]);
  EXPECT_EQ(b.at("y")[0].item<double>(), y[0]);
  EXPECT_THROW(synthetic_coefficients(5, 0, {1.0, 2.0}, 1.0), BadInput);
  EXPECT_EQ(synthetic_coefficients(4, 9, {}, 1.0), synthetic_coefficients(4, 9, {}, 1.0));
}

class CsvLogistic : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("csvlogistic"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  CsvLogisticOptions write(const std::string& text) {
    CsvLogisticOptions o;
    o.path = (std::filesystem::path(dir_) / "d.csv").string();
    std::ofstream(o.path) << text;
    return o;
  }
  std::string error(const CsvLogisticOptions& o) {
    try {
      load_csv_logistic(o);
    } catch (const BadInput& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(CsvLogistic, ReadsLabelAndFeaturesAndFitsScalingOnTrainingRows) {
  auto o = write("a,label,b\n1,0,10\n3,1,20\n5,1,30\n7,0,40\n");
  o.standardize = true;
  auto splits = load_csv_logistic(o);
  auto* train = dynamic_cast<const LabelledRows*>(splits.train.get());
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->features(), 2);
  EXPECT_EQ(train->size(), 4);
  EXPECT_EQ(splits.val, nullptr);
  std::vector<double> y;
  EXPECT_EQ(block(*train, 1, 2, &y), (std::vector<double>{3, 20}));  // unscaled: the model scales
  EXPECT_EQ(y, (std::vector<double>{1}));
  auto s = train->scaling();
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->mean[0], 4.0);
  EXPECT_DOUBLE_EQ(s->scale[0], std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(s->mean[1], 25.0);

  o.features = {"b"};
  o.val_fraction = 0.5;
  splits = load_csv_logistic(o);
  EXPECT_EQ(splits.train->size(), 2);
  EXPECT_EQ(splits.val->size(), 2);
  // Statistics come from the training rows only, and validation shares them.
  auto* val = dynamic_cast<const LabelledRows*>(splits.val.get());
  EXPECT_EQ(val->scaling()->mean, dynamic_cast<const LabelledRows*>(splits.train.get())->scaling()->mean);
}

TEST_F(CsvLogistic, BadDataIsAnErrorWithFileAndLine) {
  auto o = write("label,x\n0,1\n2,1\n");
  EXPECT_EQ(error(o), o.path + ":3: column 'label': expected a label of 0 or 1, got 2");
  o = write("label,x\n0,1\n1,abc\n");
  EXPECT_EQ(error(o), o.path + ":3: column 'x' (column 2): expected a finite number, got 'abc'");
  o = write("y,x\n0,1\n");
  EXPECT_NE(error(o).find(o.path + ":1: expected a column named 'label', got columns y, x"), std::string::npos);
  o = write("label,x\n0,1\n");
  o.features = {"x", "z"};
  EXPECT_NE(error(o).find("expected a column named 'z'"), std::string::npos);
  o = write("label,x\n0,1\n1\n");
  EXPECT_EQ(error(o), o.path + ":3: expected 2 cells as in the header (line 1), got 1");
  o = write("label\n0\n");
  EXPECT_NE(error(o).find("expected at least one feature column"), std::string::npos);
}

}  // namespace
}  // namespace tandem::data
