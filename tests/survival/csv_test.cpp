// The survival_csv dataset on small generated files: encoding, splits, and
// each bad-input error with its file:line, column, expectation and value.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/survival/survival_csv.h"
#include "framework/core/error.h"
#include "tests/support/multiprocess.h"
#include "tests/support/recipe_problems.h"

namespace tandem::data {
namespace {

class SurvivalCsv : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("survival_csv"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Writes `text` to a file and returns a resolved data section for it.
  YAML::Node section(const std::string& text, const std::string& extra = "") {
    const auto path = (std::filesystem::path(dir_) / "d.csv").string();
    std::ofstream(path) << text;
    YAML::Node n = YAML::Load("{type: survival_csv, path: " + path + (extra.empty() ? "" : ", " + extra) + "}");
    const auto schema = SurvivalCsvDataset::schema();
    for (const auto& key : schema.keys()) {
      if (!n[key.name()] && key.default_value()) n[key.name()] = *key.default_value();
    }
    return n;
  }

  /// The BadInput message of loading `text`.
  std::string error_of(const std::string& text, const std::string& extra = "") {
    try {
      SurvivalCsvDataset::load(section(text, extra));
    } catch (const BadInput& e) {
      return e.what();
    }
    return "(no error)";
  }

  std::string dir_;
};

const char* kGood =
    "age,group,duration,event,split\n"
    "50,a,10,1,train\n"
    "60,b,20,0,train\n"
    "70,a,5.5,1,test\n"
    "40,c,30,1,train\n";

TEST_F(SurvivalCsv, OneHotLevelsFromTrainingAndSplitColumn) {
  auto d = SurvivalCsvDataset::load(section(kGood, "categorical: group, split_column: split"));
  auto train = std::dynamic_pointer_cast<SurvivalTable>(d.train);
  auto val = std::dynamic_pointer_cast<SurvivalTable>(d.val);
  ASSERT_TRUE(train && val);
  EXPECT_EQ(train->feature_names(), (std::vector<std::string>{"age", "group=a", "group=b", "group=c"}));
  EXPECT_TRUE(torch::equal(train->x(), torch::tensor({{50.f, 1.f, 0.f, 0.f}, {60.f, 0.f, 1.f, 0.f}, {40.f, 0.f, 0.f, 1.f}})));
  EXPECT_TRUE(torch::equal(train->duration(), torch::tensor({10.f, 20.f, 30.f})));
  EXPECT_TRUE(torch::equal(train->event(), torch::tensor({1.f, 0.f, 1.f})));
  EXPECT_TRUE(torch::equal(val->x(), torch::tensor({{70.f, 1.f, 0.f, 0.f}})));
}

TEST_F(SurvivalCsv, SeededSplitAndTuneFraction) {
  // Without a split column: round(4 * 0.25) = 1 validation row, every column but the outcome is a feature.
  auto d = SurvivalCsvDataset::load(section("a,duration,event\n1,1,1\n2,2,1\n3,3,0\n4,4,1\n", "val_fraction: 0.25"));
  EXPECT_EQ(d.train->size(), 3);
  EXPECT_EQ(d.val->size(), 1);
  // tune_fraction: validation comes from the 3 training rows; the test row is left out.
  auto t = SurvivalCsvDataset::load(section(kGood, "features: age, split_column: split, tune_fraction: 0.34"));
  EXPECT_EQ(t.train->size() + t.val->size(), 3);
  EXPECT_EQ(t.val->size(), 1);
  auto val = std::dynamic_pointer_cast<SurvivalTable>(t.val);
  EXPECT_NE(val->x()[0][0].item<float>(), 70.f) << "the test row must not be used";
}

TEST_F(SurvivalCsv, KFoldsPartitionThePoolAndLeaveTheTestRowsOut) {
  // 7 rows, 3 folds: sizes 3, 2, 2 (the first n % K folds take one more), disjoint, covering every row.
  std::string text = "a,duration,event\n";
  for (int i = 1; i <= 7; ++i) text += std::to_string(i) + "," + std::to_string(i) + ",1\n";
  std::vector<float> seen;
  for (int k = 0; k < 3; ++k) {
    auto d = SurvivalCsvDataset::load(section(text, "folds: 3, fold: " + std::to_string(k) + ", split_seed: 5"));
    EXPECT_EQ(d.val->size(), k == 0 ? 3 : 2) << "fold " << k;
    EXPECT_EQ(d.train->size() + d.val->size(), 7);
    auto val = std::dynamic_pointer_cast<SurvivalTable>(d.val);
    auto train = std::dynamic_pointer_cast<SurvivalTable>(d.train);
    for (int64_t i = 0; i < val->size(); ++i) {
      const float a = val->x()[i][0].item<float>();
      seen.push_back(a);
      EXPECT_FALSE((train->x().select(1, 0) == a).any().item<bool>()) << "row " << a << " in both splits";
    }
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<float>{1, 2, 3, 4, 5, 6, 7}));
  // Another seed gives other folds.
  auto a = SurvivalCsvDataset::load(section(text, "folds: 3, fold: 0, split_seed: 5"));
  auto b = SurvivalCsvDataset::load(section(text, "folds: 3, fold: 0, split_seed: 6"));
  EXPECT_FALSE(torch::equal(std::dynamic_pointer_cast<SurvivalTable>(a.val)->x(),
                            std::dynamic_pointer_cast<SurvivalTable>(b.val)->x()));
  // With a split column the folds cover the training rows only.
  for (int k = 0; k < 3; ++k) {
    auto t = SurvivalCsvDataset::load(
        section(kGood, "features: age, split_column: split, folds: 3, fold: " + std::to_string(k)));
    EXPECT_EQ(t.train->size(), 2);
    ASSERT_EQ(t.val->size(), 1);
    EXPECT_NE(std::dynamic_pointer_cast<SurvivalTable>(t.val)->x()[0][0].item<float>(), 70.f) << "the test row";
  }
  // With tune_fraction the fold is left out and validation is a share of the other folds (nested selection).
  auto fold = SurvivalCsvDataset::load(section(text, "folds: 3, fold: 0, split_seed: 5"));
  auto tuned = SurvivalCsvDataset::load(section(text, "folds: 3, fold: 0, split_seed: 5, tune_fraction: 0.25"));
  EXPECT_EQ(tuned.val->size(), 1);  // round(4 * 0.25) of the 4 training rows
  EXPECT_EQ(tuned.train->size(), 3);
  const auto fold_x = std::dynamic_pointer_cast<SurvivalTable>(fold.val)->x().select(1, 0);
  for (const auto& part : {tuned.train, tuned.val}) {
    const auto x = std::dynamic_pointer_cast<SurvivalTable>(part)->x().select(1, 0);
    for (int64_t i = 0; i < x.size(0); ++i) {
      EXPECT_FALSE((fold_x == x[i]).any().item<bool>()) << "a row of the test fold was used";
    }
  }
  EXPECT_NE(error_of("a,duration,event\n1,1,1\n2,2,1\n", "folds: 3").find(
                "data.folds: expected at most as many folds as rows to split (2), got 3"),
            std::string::npos);
}

TEST_F(SurvivalCsv, SplitKeysThatContradictEachOtherAreRecipeErrors) {
  recipe::Section root;
  root.adopt("data", SurvivalCsvDataset::schema());
  const auto path = (std::filesystem::path(dir_) / "d.csv").string();
  std::ofstream(path) << kGood;
  auto problems = [&](const std::string& keys) {
    return test::recipe_problems("data: {path: " + path + ", " + keys + "}\n", root);
  };
  EXPECT_TRUE(problems("folds: 5, fold: 4").empty());
  auto p = problems("folds: 5, fold: 5");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:1:" + std::to_string(32 + path.size()) +
                      ": data.fold: expected an integer in [0, 4] (data.folds is 5), got 5");
  p = problems("folds: 1");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("data.folds: expected 0 (off) or at least 2 folds, got 1"), std::string::npos) << p[0];
  p = problems("fold: 2");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("data.fold: expected 0 without data.folds, got 2"), std::string::npos) << p[0];
  p = problems("tune_fraction: 0.2");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("data.tune_fraction: expected 0 without data.split_column or data.folds"), std::string::npos)
      << p[0];
  EXPECT_TRUE(problems("tune_fraction: 0.2, folds: 3").empty());
  EXPECT_TRUE(problems("split_column: split, tune_fraction: 0.2, folds: 3").empty());
}

TEST_F(SurvivalCsv, BadValuesNameFileLineColumnAndValue) {
  auto msg = error_of("a,duration,event\n1,-2,1\n");
  EXPECT_NE(msg.find("d.csv:2: column 'duration' (data.duration): expected a number >= 0, got '-2'"),
            std::string::npos)
      << msg;
  msg = error_of("a,duration,event\n1,2,1\n1,3,2\n");
  EXPECT_NE(msg.find("d.csv:3: column 'event' (data.event): expected 0 (censored) or 1 (event), got '2'"),
            std::string::npos)
      << msg;
  msg = error_of("a,duration,event\n1,2,1\nNA,3,0\n");
  EXPECT_NE(msg.find("d.csv:3: column 'a': expected a number, got a missing value; set data.missing=impute"),
            std::string::npos)
      << msg;
  msg = error_of("a,duration,event\n1,,1\n");
  EXPECT_NE(msg.find("d.csv:2: column 'duration' (data.duration): expected a number >= 0, got a missing value"),
            std::string::npos)
      << msg;
  // Text in a numeric column and a short row: tandem::table's messages.
  msg = error_of("a,duration,event\nxyz,2,1\n");
  EXPECT_NE(msg.find("d.csv:2: column 'a' (column 1): expected a finite number, got 'xyz'"), std::string::npos) << msg;
  msg = error_of("a,duration,event\n1,2\n");
  EXPECT_NE(msg.find("d.csv:2: expected 3 cells as in the header (line 1), got 2"), std::string::npos) << msg;
  msg = error_of(kGood, "categorical: group, split_column: split, features: 'age,group', train_value: train, "
                        "val_value: nope");
  EXPECT_NE(msg.find("d.csv:4: column 'split': expected 'train' or 'nope'"), std::string::npos) << msg;
  msg = error_of("g,duration,event,split\na,1,1,train\nz,2,1,test\n", "categorical: g, split_column: split");
  EXPECT_NE(msg.find("d.csv:3: column 'g': expected a level seen in the training split (a), got 'z'"),
            std::string::npos)
      << msg;
  msg = error_of("a,duration,event\n1,2,1\n", "duration: time");
  EXPECT_NE(msg.find("data.duration: expected a column named 'time'"), std::string::npos) << msg;
}

TEST_F(SurvivalCsv, ImputeFillsTheTrainingMean) {
  // Training rows: a = 1, 3 and a missing one; their mean is 2.
  auto d = SurvivalCsvDataset::load(
      section("a,duration,event,split\n1,1,1,train\n3,2,0,train\n,3,1,train\n,4,1,test\n",
              "split_column: split, missing: impute"));
  auto train = std::dynamic_pointer_cast<SurvivalTable>(d.train);
  auto val = std::dynamic_pointer_cast<SurvivalTable>(d.val);
  EXPECT_TRUE(torch::equal(train->x(), torch::tensor({{1.f}, {3.f}, {2.f}})));
  EXPECT_TRUE(torch::equal(val->x(), torch::tensor({{2.f}})));
}

TEST_F(SurvivalCsv, HoldoutComesFromTheTrainingRowsAndTheEncodingRoundTrips) {
  std::string text = "age,group,duration,event,split\n";
  for (int i = 0; i < 20; ++i) {
    text += std::to_string(30 + i) + "," + (i % 2 ? "a" : "b") + "," + std::to_string(i + 1) + ",1," +
            (i < 15 ? "train" : "test") + "\n";
  }
  auto d = SurvivalCsvDataset::load(
      section(text, "categorical: group, split_column: split, holdout_fraction: 0.2, split_seed: 3"));
  auto train = std::dynamic_pointer_cast<SurvivalTable>(d.train);
  ASSERT_TRUE(train && train->holdout());
  // round(15 * 0.2) = 3 of the 15 training rows; the 5 test rows stay the validation split.
  EXPECT_EQ(train->size(), 12);
  EXPECT_EQ(train->holdout()->size(), 3);
  EXPECT_EQ(d.val->size(), 5);
  auto ages = torch::cat({train->x().select(1, 0), train->holdout()->x().select(1, 0)});
  EXPECT_EQ(std::get<0>(torch::_unique(ages)).numel(), 15) << "holdout and training rows must not overlap";
  EXPECT_LT(train->holdout()->x().select(1, 0).max().item<float>(), 45.f) << "no test row in the holdout";
  // The encoding written into a model reads back exactly.
  const auto& enc = train->encoding();
  ASSERT_EQ(enc.columns.size(), 2u);
  const auto back = FeatureEncoding::from_yaml(enc.to_yaml(), "test");
  EXPECT_EQ(back.feature_names(), (std::vector<std::string>{"age", "group=a", "group=b"}));
  EXPECT_EQ(back.columns[0].mean, enc.columns[0].mean);
  EXPECT_FALSE(back.columns[0].categorical);
  EXPECT_EQ(back.columns[1].levels, (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(FeatureEncoding::from_yaml("{a: 1}", "x"), BadInput);
}

}  // namespace
}  // namespace tandem::data
