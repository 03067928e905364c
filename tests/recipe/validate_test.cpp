#include "framework/recipe/validate.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/recipe/recipe.h"
#include "tests/support/recipe_problems.h"

namespace tandem::recipe {
namespace {

/// A schema shaped like the real one: plain sections and a variant.
Section test_schema() {
  static const std::map<std::string, Section> models = [] {
    std::map<std::string, Section> m;
    Section lstm;
    lstm.add("hidden", Type::kInt, "").def(128).min(1);
    m.emplace("char_lstm", lstm);
    Section logistic;
    logistic.add("l2", Type::kFloat, "").def(0.0).min(0);
    m.emplace("logistic", logistic);
    return m;
  }();
  Section root;
  Section& model = root.section("model", "");
  model.make_variant(
      "type",
      [](const std::string& n) -> const Section* {
        auto it = models.find(n);
        return it == models.end() ? nullptr : &it->second;
      },
      [] { return std::vector<std::string>{"char_lstm", "logistic"}; });
  Section& data = root.section("data", "");
  data.add("path", Type::kFile, "");
  Section& optim = root.section("optim", "");
  optim.add("lr", Type::kFloat, "").def(1e-3).greater_than(0);
  optim.add("betas", Type::kFloatList, "").def(std::vector<double>{0.9, 0.999}).min(0).less_than(1);
  Section& trainer = root.section("trainer", "");
  trainer.add("epochs", Type::kInt, "").def(1).min(1);
  trainer.add("batch_size", Type::kInt, "").def(32).min(1);
  trainer.add("shuffle", Type::kBool, "").def(true);
  trainer.add("mode", Type::kChoice, "").def("fast").choices({"fast", "exact"});
  trainer.rule([](const YAML::Node& t) -> std::optional<Section::Problem> {
    if (t["mode"].as<std::string>() == "exact" && t["shuffle"].as<bool>()) {
      return Section::Problem{"shuffle", "expected false with trainer.mode exact, got true"};
    }
    return std::nullopt;
  });
  return root;
}

class RecipeValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tandem-recipe-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    data_file_ = (dir_ / "names.txt").string();
    std::ofstream(data_file_) << "rex\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Problems reported for `text` (with `overrides`), or none.
  std::vector<std::string> problems(const std::string& text, const std::vector<std::string>& overrides = {}) {
    return test::recipe_problems(text, schema_, "recipes/x.yaml", overrides);
  }

  std::filesystem::path dir_;
  std::string data_file_;
  Section schema_ = test_schema();
};

TEST_F(RecipeValidation, FillsDefaultsAndMakesPathsAbsolute) {
  auto r = load_text("model: {type: char_lstm}\ndata: {path: " + data_file_ + "}\n", "recipes/x.yaml", {}, schema_);
  EXPECT_EQ(r.name, "x");
  EXPECT_EQ(r.config["model"]["hidden"].as<int>(), 128);
  EXPECT_DOUBLE_EQ(r.config["optim"]["lr"].as<double>(), 1e-3);
  EXPECT_EQ(r.config["trainer"]["mode"].as<std::string>(), "fast");
  EXPECT_EQ(r.config["optim"]["betas"].as<std::vector<double>>(), (std::vector<double>{0.9, 0.999}));
  EXPECT_TRUE(std::filesystem::path(r.config["data"]["path"].as<std::string>()).is_absolute());
  // The resolved config is valid input for itself (what workers and checkpoints reload).
  auto again = load_text(to_yaml(r.config), "config.yaml", {}, schema_);
  EXPECT_EQ(to_yaml(again.config), to_yaml(r.config));
}

TEST_F(RecipeValidation, ReportsEveryProblemAtOnceWithFileLineAndColumn) {
  const std::string text =
      "model:\n"
      "  type: char_lstm\n"
      "data:\n"
      "  path: /no/such/names.txt\n"
      "optim:\n"
      "  lr: -1\n"
      "trainer:\n"
      "  epoch: 3\n";
  auto p = problems(text);
  ASSERT_EQ(p.size(), 3u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "recipes/x.yaml:4:9: data.path: expected a path to an existing file, got '/no/such/names.txt' (no such file)");
  EXPECT_EQ(p[1], "recipes/x.yaml:6:7: optim.lr: expected a number > 0, got -1");
  EXPECT_NE(p[2].find("recipes/x.yaml:8:3: trainer.epoch: expected a key of trainer"), std::string::npos) << p[2];
  EXPECT_NE(p[2].find("got unknown key 'epoch' (did you mean 'epochs'?)"), std::string::npos) << p[2];
}

TEST_F(RecipeValidation, WrongTypesAndRanges) {
  const std::string head = "model: {type: char_lstm}\ndata: {path: " + data_file_ + "}\n";
  auto p = problems(head + "trainer: {epochs: three, batch_size: 0, shuffle: maybe, mode: exakt}\noptim: {betas: [0.9, 1.5]}\n");
  ASSERT_EQ(p.size(), 5u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("optim.betas: expected a list of numbers in [0, 1), got a list"), std::string::npos) << p[0];
  EXPECT_NE(p[1].find("trainer.epochs: expected an integer >= 1, got 'three'"), std::string::npos) << p[1];
  EXPECT_NE(p[2].find("trainer.batch_size: expected an integer >= 1, got 0"), std::string::npos) << p[2];
  EXPECT_NE(p[3].find("trainer.shuffle: expected true or false, got 'maybe'"), std::string::npos) << p[3];
  EXPECT_NE(p[4].find("trainer.mode: expected one of fast, exact, got 'exakt' (did you mean 'exact'?)"),
            std::string::npos) << p[4];
  EXPECT_NE(problems(head + "trainer: {epochs: 1.5}")[0].find("expected an integer >= 1, got 1.5"), std::string::npos);
  EXPECT_NE(problems(head + "trainer: [1, 2]")[0].find("trainer: expected a map of keys, got a list"),
            std::string::npos);
}

TEST_F(RecipeValidation, VariantSectionsCheckTheSelectedKeys) {
  const std::string data = "data: {path: " + data_file_ + "}\n";
  auto unknown = problems("model: {type: char_lstn}\n" + data);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], "recipes/x.yaml:1:15: model.type: expected one of char_lstm, logistic, got 'char_lstn' (did you mean 'char_lstm'?)");
  auto wrong_key = problems("model: {type: logistic, hidden: 3}\n" + data);
  ASSERT_EQ(wrong_key.size(), 1u);
  EXPECT_NE(wrong_key[0].find("model.hidden: expected a key of model (type, l2)"), std::string::npos) << wrong_key[0];
  auto missing = problems(data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("model.type: expected one of char_lstm, logistic, got nothing"), std::string::npos);
}

TEST_F(RecipeValidation, OverridesAreAppliedAndBlamedByName) {
  const std::string text = "model: {type: char_lstm}\ndata: {path: " + data_file_ + "}\n";
  auto r = load_text(text, "recipes/x.yaml", {"optim.lr=0.5", "model.hidden=7"}, schema_);
  EXPECT_DOUBLE_EQ(r.config["optim"]["lr"].as<double>(), 0.5);
  EXPECT_EQ(r.config["model"]["hidden"].as<int>(), 7);
  auto p = problems(text, {"optim.lr=-2", "trainer.epochz=1"});
  ASSERT_EQ(p.size(), 2u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "override 'optim.lr=-2': optim.lr: expected a number > 0, got -2");
  EXPECT_NE(p[1].find("override 'trainer.epochz=1': trainer.epochz:"), std::string::npos) << p[1];
}

TEST_F(RecipeValidation, CrossKeyRulesBlameTheirKeyAfterEveryKeyPassed) {
  const std::string head = "model: {type: char_lstm}\ndata: {path: " + data_file_ + "}\n";
  EXPECT_TRUE(problems(head + "trainer: {mode: exact, shuffle: false}\n").empty());
  // The blamed key is in the file: its own line and column.
  auto p = problems(head + "trainer: {mode: exact, shuffle: true}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "recipes/x.yaml:3:33: trainer.shuffle: expected false with trainer.mode exact, got true");
  // The blamed key is a default: the section's place.
  p = problems(head + "trainer: {mode: exact}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0].rfind("recipes/x.yaml:3:10: trainer.shuffle: expected false", 0), 0u) << p[0];
  // Set on the command line: still checked before anything runs.
  p = problems(head, {"trainer.mode=exact"});
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("trainer.shuffle: expected false"), std::string::npos) << p[0];
  // A key that failed its own check is reported once; the rule does not run on a half-checked section.
  p = problems(head + "trainer: {mode: exact, shuffle: true, epochs: 0}\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("trainer.epochs: expected an integer >= 1, got 0"), std::string::npos) << p[0];
}

TEST_F(RecipeValidation, InvalidYamlNamesThePlace) {
  auto p = problems("model: {type: char_lstm\ndata: [\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rfind("recipes/x.yaml:", 0), 0u) << p[0];
  EXPECT_NE(p[0].find("invalid YAML"), std::string::npos) << p[0];
}

TEST_F(RecipeValidation, MissingRecipeFileIsBadInput) {
  EXPECT_THROW(load("/no/such/recipe.yaml", {}, schema_), BadInputList);
}

}  // namespace
}  // namespace tandem::recipe
