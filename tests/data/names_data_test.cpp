#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "data/names/char_windows.h"
#include "data/names/names_dataset.h"
#include "data/names/names_file.h"
#include "data/text/alphabet.h"
#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem::data {
namespace {

using text::Alphabet;

TEST(Alphabet, Has31SymbolsThatRoundTrip) {
  EXPECT_EQ(Alphabet::kSize, 31);
  std::set<int> seen;
  for (char c : std::string("abcdefghijklmnopqrstuvwxyz-. ")) {
    int i = Alphabet::index(c);
    ASSERT_GE(i, 2);
    ASSERT_LT(i, 31);
    seen.insert(i);
    EXPECT_EQ(Alphabet::symbol(i), c);
  }
  EXPECT_EQ(seen.size(), 29u);
  EXPECT_EQ(Alphabet::index('A'), -1);
  EXPECT_EQ(Alphabet::decode(Alphabet::encode("jean-luc")), "jean-luc");
  EXPECT_THROW(Alphabet::encode("zoë"), std::invalid_argument);
}

TEST(CharWindows, EachPositionPredictsTheNextCharacter) {
  CharWindows w({"ab"}, 3);  // s = a b stop
  ASSERT_EQ(w.size(), 3);
  const int a = Alphabet::index('a'), b = Alphabet::index('b'), pad = Alphabet::kPad, stop = Alphabet::kStop;
  auto expect_row = [&](int64_t row, std::vector<int64_t> in, std::vector<int64_t> out) {
    EXPECT_TRUE(torch::equal(w.inputs()[row], torch::tensor(in))) << "input row " << row;
    EXPECT_TRUE(torch::equal(w.targets()[row], torch::tensor(out))) << "target row " << row;
  };
  expect_row(0, {pad, pad, pad}, {pad, pad, a});
  expect_row(1, {pad, pad, a}, {pad, a, b});
  expect_row(2, {pad, a, b}, {a, b, stop});
  auto batch = w.get({2, 0});
  EXPECT_EQ(batch.size, 2);
  EXPECT_TRUE(torch::equal(batch.at("input")[0], w.inputs()[2]));
}

TEST(CharWindows, LongNamesSlideTheWindow) {
  CharWindows w({"abcdef"}, 2);
  ASSERT_EQ(w.size(), 7);
  EXPECT_TRUE(torch::equal(w.inputs()[6], torch::tensor({Alphabet::index('e'), Alphabet::index('f')}).to(torch::kInt64)));
  EXPECT_TRUE(torch::equal(w.targets()[6], torch::tensor({Alphabet::index('f'), Alphabet::kStop}).to(torch::kInt64)));
}

TEST(CharWindows, EveryPositionScoresTheLastPositionOnly) {
  CharWindows w({"ab"}, 3);
  EXPECT_TRUE(torch::equal(w.scored(), torch::tensor({false, false, true}).repeat({3, 1})));
}

TEST(CharWindows, WholeNamesStartAtTheNameAndScoreEverySymbolOnce) {
  const int a = Alphabet::index('a'), b = Alphabet::index('b'), c = Alphabet::index('c'), pad = Alphabet::kPad,
            stop = Alphabet::kStop;
  CharWindows w({"ab", "abcabc"}, 4, WindowMode::kWholeName);
  // "ab": one window, right-padded: nothing before the stop tells the name's length.
  // "abcabc" (7 symbols with the stop): windows at 0 and 4.
  ASSERT_EQ(w.size(), 3);
  auto row = [](std::vector<int64_t> v) { return torch::tensor(v); };
  EXPECT_TRUE(torch::equal(w.inputs()[0], row({pad, a, b, stop})));
  EXPECT_TRUE(torch::equal(w.targets()[0], row({a, b, stop, pad})));
  EXPECT_TRUE(torch::equal(w.inputs()[1], row({pad, a, b, c})));
  EXPECT_TRUE(torch::equal(w.targets()[1], row({a, b, c, a})));
  EXPECT_TRUE(torch::equal(w.inputs()[2], row({a, b, c, stop})));
  EXPECT_TRUE(torch::equal(w.targets()[2], row({b, c, stop, pad})));
  EXPECT_TRUE(torch::equal(w.scored(), w.targets() != pad));
  EXPECT_EQ(w.scored().sum().item<int64_t>(), 3 + 7) << "each symbol with the stops, once";
  EXPECT_TRUE(w.get({2}).fields.count("scored"));
  EXPECT_THROW(window_mode_from("every"), std::invalid_argument);
}

TEST(SplitNames, IsSeededDisjointAndComplete) {
  std::vector<std::string> names;
  for (int i = 0; i < 100; ++i) names.push_back("n" + std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i));
  auto s = split_names(names, 0.2, 4);
  EXPECT_EQ(s.val.size(), 20u);
  EXPECT_EQ(s.train.size(), 80u);
  std::set<std::string> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(split_names(names, 0.2, 4).val, s.val);
  EXPECT_NE(split_names(names, 0.2, 5).val, s.val);
}

class NamesFile : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("names"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text) {
    auto p = (std::filesystem::path(dir_) / "names.txt").string();
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
};

TEST_F(NamesFile, LowerCasesTrimsAndSkipsBlankLines) {
  auto names = read_names(write("Rex\n\n  Bella \r\nmr. whiskers\n"));
  EXPECT_EQ(names, (std::vector<std::string>{"rex", "bella", "mr. whiskers"}));
}

TEST_F(NamesFile, ACharacterOutsideTheAlphabetNamesFileAndLine) {
  auto path = write("rex\nbella\nr2d2\n");
  try {
    read_names(path);
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: expected a name made of"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("got 'r2d2' (character '2')"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_names(path, OnInvalid::kSkip).size(), 2u);
  EXPECT_THROW(read_names(write("\n\n")), BadInput);
}

TEST_F(NamesFile, CountsSkippedNamesAndEndsTheErrorWithTheCallersHint) {
  auto path = write("rex\nchlo\xc3\xa9\nbella\nr2d2\n");
  const auto read = read_names_file(path, OnInvalid::kSkip);
  EXPECT_EQ(read.names, (std::vector<std::string>{"rex", "bella"}));
  EXPECT_EQ(read.skipped, 2);
  try {
    read_names_file(path, OnInvalid::kError, "pass --skip-unknown to skip such names");
    FAIL();
  } catch (const BadInput& e) {
    // The whole UTF-8 character, not one of its bytes.
    EXPECT_NE(std::string(e.what()).find(path + ":2: expected a name made of a-z, '-', '.' and space, got 'chlo\xc3\xa9' "
                                         "(character '\xc3\xa9') at column 5; pass --skip-unknown to skip such names"),
              std::string::npos)
        << e.what();
  }
  try {
    read_names_file(write("r2\n\xc3\xa9\n"), OnInvalid::kSkip);
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("got no name in the alphabet (2 skipped"), std::string::npos) << e.what();
  }
}

TEST_F(NamesFile, ATuningSplitComesOutOfTheTrainingNamesAndLeavesTheValidationNamesOut) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "name" + std::string(1, static_cast<char>('a' + i % 26)) + std::string(i / 26 + 1, 'x') + "\n";
  YAML::Node section;
  section["path"] = write(text);
  section["on_invalid"] = "error";
  section["val_fraction"] = 0.25;
  section["split_seed"] = 3;
  section["tune_fraction"] = 0.0;
  const auto plain = NamesDataset::split(section);
  section["tune_fraction"] = 0.2;
  const auto tuning = NamesDataset::split(section);
  EXPECT_EQ(plain.val.size(), 10u);
  EXPECT_EQ(tuning.val.size(), 6u) << "round(30 x 0.2)";
  EXPECT_EQ(tuning.train.size(), 24u);
  std::set<std::string> plain_train(plain.train.begin(), plain.train.end());
  std::set<std::string> seen;
  for (const auto& n : tuning.val) EXPECT_TRUE(plain_train.count(n)) << n << " is not a training name";
  for (const auto& n : tuning.train) EXPECT_TRUE(plain_train.count(n)) << n << " is not a training name";
  seen.insert(tuning.train.begin(), tuning.train.end());
  seen.insert(tuning.val.begin(), tuning.val.end());
  EXPECT_EQ(seen.size(), 30u) << "the tuning and remaining training names are disjoint and complete";

  // tune_seed draws another tuning split of the same training names; unset, it is split_seed.
  section["tune_seed"] = 3;
  EXPECT_EQ(NamesDataset::split(section).val, tuning.val);
  section["tune_seed"] = 4;
  const auto other = NamesDataset::split(section);
  EXPECT_EQ(other.val.size(), 6u);
  EXPECT_NE(std::set<std::string>(other.val.begin(), other.val.end()),
            std::set<std::string>(tuning.val.begin(), tuning.val.end()));
  for (const auto& n : other.val) EXPECT_TRUE(plain_train.count(n)) << n << " is not a training name";
  EXPECT_EQ(std::set<std::string>(other.train.begin(), other.train.end()).size() + other.val.size(), 30u);
}

TEST(ShippedCorpus, IsInTheAlphabetAndLargeEnough) {
  auto names = read_names(std::string(TANDEM_SOURCE_DIR) + "/data/corpora/names.txt");
  EXPECT_GT(names.size(), 1000u);
}

}  // namespace
}  // namespace tandem::data
