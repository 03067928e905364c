// One declaration per option (binding.h): the struct's defaults are the
// schema's, and the reader and writer follow the same bindings.
#include "framework/recipe/binding.h"

#include <gtest/gtest.h>

#include "framework/recipe/validate.h"
#include "tests/support/recipe_problems.h"

namespace tandem::recipe {
namespace {

struct Penalty {
  double lambda = 0.5;
  int64_t every = 3;
};

struct Options {
  int64_t steps = 7;
  double lr = 0.01;
  bool shuffle = true;
  std::string mode = "min";
  std::string path;
  std::vector<double> widths{32, 16};
  std::vector<int64_t> layers{2, 3};
  std::optional<double> target;
  uint64_t seed = 42;
  Penalty penalty;
  double alpha = 0.25;  // the recipe calls it l1_ratio
};

Binding<Options> bindings() {
  Binding<Options> b("A section for the test.");
  b.key("steps", &Options::steps, "Steps.").min(1);
  b.key("lr", &Options::lr, "Learning rate.").greater_than(0);
  b.key("shuffle", &Options::shuffle, "Shuffle.");
  b.choice("mode", &Options::mode, "Direction.", {"min", "max"});
  b.key("path", &Options::path, "A path.").required();
  b.key("widths", &Options::widths, "Widths.");
  b.key("layers", &Options::layers, "Layer sizes.").min(1);
  b.key("target", &Options::target, "Target, if any.");
  b.key("seed", &Options::seed, "Seed.").min(0);
  b.key("l1_ratio", [](Options& o) -> double& { return o.alpha; }, "Share of L1.").min(0).max(1);
  auto penalty = b.section("penalty", &Options::penalty, "The penalty.");
  penalty.key("lambda", &Penalty::lambda, "Strength.").min(0);
  penalty.key("every", &Penalty::every, "How often.").min(1);
  return b;
}

Section root_schema(const Binding<Options>& b) {
  Section root;
  root.adopt("opts", b.schema());
  return root;
}

/// The resolved `opts` section of a recipe text (problems fail the test).
YAML::Node resolve(const Section& root, const std::string& text) {
  std::vector<std::string> problems;
  YAML::Node doc = validate(root, YAML::Load(text), Origin{"r.yaml", {}}, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return doc["opts"];
}

TEST(Binding, KeysTakeTheirTypeAndDefaultFromTheStruct) {
  const auto b = bindings();
  const Section& s = b.schema();
  EXPECT_EQ(s.find_key("steps")->type(), Type::kInt);
  EXPECT_EQ(s.find_key("steps")->default_value()->as<int64_t>(), 7);
  EXPECT_EQ(s.find_key("lr")->type(), Type::kFloat);
  EXPECT_DOUBLE_EQ(s.find_key("lr")->default_value()->as<double>(), 0.01);
  EXPECT_EQ(s.find_key("shuffle")->type(), Type::kBool);
  EXPECT_EQ(s.find_key("mode")->type(), Type::kChoice);
  EXPECT_EQ(s.find_key("mode")->default_value()->as<std::string>(), "min");
  EXPECT_EQ(s.find_key("widths")->type(), Type::kFloatList);
  EXPECT_EQ(s.find_key("layers")->type(), Type::kIntList);
  EXPECT_FALSE(s.find_key("path")->default_value().has_value()) << "required";
  EXPECT_TRUE(s.find_key("target")->is_optional());
  EXPECT_DOUBLE_EQ(s.find_section("penalty")->find_key("lambda")->default_value()->as<double>(), 0.5);
}

TEST(Binding, AnEmptySectionReadsAsTheStructsDefaults) {
  const auto b = bindings();
  const Options o = b.read(resolve(root_schema(b), "opts: {path: x}\n"));
  Options expected;
  expected.path = "x";
  EXPECT_EQ(YAML::Dump(b.write(o)), YAML::Dump(b.write(expected)));
  EXPECT_FALSE(o.target.has_value());
  EXPECT_EQ(o.widths, expected.widths);
  EXPECT_EQ(o.layers, expected.layers);
}

TEST(Binding, ValuesReachTheirFieldsNestedAndRenamedOnes) {
  const auto b = bindings();
  const Options o = b.read(resolve(root_schema(b),
                                   "opts:\n  steps: 3\n  lr: 0.5\n  shuffle: false\n  mode: max\n  path: p\n"
                                   "  widths: [1, 2, 3]\n  layers: [4]\n  target: 1.5\n  seed: 9\n  l1_ratio: 1\n"
                                   "  penalty: {lambda: 2, every: 5}\n"));
  EXPECT_EQ(o.steps, 3);
  EXPECT_DOUBLE_EQ(o.lr, 0.5);
  EXPECT_FALSE(o.shuffle);
  EXPECT_EQ(o.mode, "max");
  EXPECT_EQ(o.path, "p");
  EXPECT_EQ(o.widths, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(o.layers, (std::vector<int64_t>{4}));
  EXPECT_EQ(o.target, 1.5);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_DOUBLE_EQ(o.alpha, 1.0);
  EXPECT_DOUBLE_EQ(o.penalty.lambda, 2.0);
  EXPECT_EQ(o.penalty.every, 5);
  // And back: what is written reads as the same options.
  Options again = b.read(b.write(o));
  EXPECT_EQ(YAML::Dump(b.write(again)), YAML::Dump(b.write(o)));
}

TEST(Binding, TheChecksOfTheBoundKeysStillApply) {
  const auto b = bindings();
  const Section root = root_schema(b);
  auto problems = test::recipe_problems("opts:\n  mode: sideways\n  lr: 0\n", root);
  ASSERT_EQ(problems.size(), 3u);  // mode, lr, and the missing path
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("opts.mode"), std::string::npos) << all;
  EXPECT_NE(all.find("sideways"), std::string::npos) << all;
  EXPECT_NE(all.find("opts.lr"), std::string::npos) << all;
  EXPECT_NE(all.find("opts.path"), std::string::npos) << all;
}

TEST(Binding, AListOfIntegersRefusesAFractionWithItsLine) {
  const auto b = bindings();
  auto problems = test::recipe_problems("opts:\n  path: p\n  layers: [4, 2.5]\n", root_schema(b));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("r.yaml:3"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("opts.layers: expected a list of integers >= 1"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace tandem::recipe
